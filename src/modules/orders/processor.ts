import { ConcurrencyConflictError, EventStoreError, isDomainError } from '../../eventstore/errors.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import type { ProcessManager } from '../../eventstore/process-manager.js';
import { orderRepository, type OrderStore } from './commands.js';

/**
 * The repository wants a store; inside a process manager's step the step's transaction is the
 * only one a handler may use, so this store reads through it and refuses to open another.
 */
const stepStore = (session: PostgresSession): OrderStore => ({
  transaction: () => Promise.reject(new EventStoreError('a process manager step must not open a transaction of its own')),
  readStream: (id, options) => session.readStream(id, options),
  streamVersion: (id) => session.streamVersion(id),
  readLog: (options) => session.readLog(options),
  loadSnapshot: (id) => session.loadSnapshot(id),
});

/**
 * go-event-sourcing's order processor: answers every OrderProcessingRequested with
 * OrderProcessed, in the transaction that moves its checkpoint (so exactly once). The new event's
 * causationId is the request's event id and it keeps the request's correlationId.
 */
export const orderProcessor: ProcessManager = {
  name: 'order-processor',
  handles: ['OrderProcessingRequested'],
  async handle(session, trigger) {
    try {
      await orderRepository(stepStore(session))
        .in(session)
        .update(trigger.event.aggregateId, { type: 'CompleteOrderProcessing' }, trigger.command('completeOrderProcessing'));
    } catch (error) {
      // A conflict is worth another try (the runner retries the step); any other domain error
      // means this request can never be completed, and retrying it forever would stall the log.
      if (error instanceof ConcurrencyConflictError || !isDomainError(error)) throw error;
      trigger.logger.warn('order processor dropped a request it can never complete', {
        orderId: trigger.event.aggregateId,
        trigger: trigger.event.id,
        code: error.code,
      });
    }
  },
};
