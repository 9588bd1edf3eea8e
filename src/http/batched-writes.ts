import type { Socket } from 'node:net';

const held = new WeakSet<Socket>();

/**
 * Holds a socket's writes until the event loop turns, then sends them in one system call.
 *
 * A subscriber's events pass through promise callbacks and stream ticks on their way out (yoga's
 * SSE stream, graphql-ws), and Node's own corking ends at the next tick: each event became a
 * write of its own, one system call per event per subscriber, most of a server's CPU at a hundred
 * subscribers. Corked until `setImmediate`, everything written to the socket in one turn of the
 * loop (a relay batch, up to `eventsPerTurn` events per subscriber) leaves in one `writev`, as a
 * hand-written fan-out server would write it. The delay is the rest of the current turn.
 */
export const holdWritesForThisTurn = (socket: Socket | null | undefined): void => {
  if (!socket || held.has(socket) || socket.destroyed) return;
  held.add(socket);
  socket.cork();
  setImmediate(() => {
    held.delete(socket);
    socket.uncork();
  });
};
