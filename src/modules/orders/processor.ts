import { ConcurrencyConflictError, isDomainError } from '../../eventstore/errors.js';
import type { ProcessManager } from '../../eventstore/process-manager.js';
import { orderAggregate } from './aggregate.js';

/**
 * The order processor: answers every OrderProcessingRequested with OrderProcessed, in the
 * transaction that moves its checkpoint (so exactly once). The new event's causationId is the
 * request's event id and it keeps the request's correlationId.
 */
export const orderProcessor: ProcessManager = {
  name: 'order-processor',
  handles: ['OrderProcessingRequested'],
  processOf: (event) => event.aggregateId,
  async handle(session, trigger) {
    try {
      await orderAggregate.handleIn(session, trigger.event.aggregateId, { type: 'CompleteOrderProcessing' }, trigger.command('completeOrderProcessing'));
    } catch (error) {
      // A conflict is worth another try (the runner retries the step); any other domain error
      // means this request can never be completed, and retrying it would only park it.
      if (error instanceof ConcurrencyConflictError || !isDomainError(error)) throw error;
      trigger.logger.warn('order processor dropped a request it can never complete', {
        orderId: trigger.event.aggregateId,
        trigger: trigger.event.id,
        code: error.code,
      });
    }
  },
};
