import type { ProcessManager } from '../eventstore/process-manager.js';
import { moneyTransferSaga } from './money-transfers/saga.js';
import { orderProcessor } from './orders/processor.js';

/** Every module's process managers, run by each server instance (one active cluster-wide). */
export const processManagers: readonly ProcessManager[] = [orderProcessor, moneyTransferSaga];
