/** The orders module's public surface. */
export * from './order.js';
export { createOrder, processOrder, orderRepository } from './commands.js';
export { orderProcessor } from './processor.js';
export { orders, findOrder, type OrderView } from './projection.js';
