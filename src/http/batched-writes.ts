import type { Socket } from 'node:net';

const held = new WeakSet<Socket>();

/**
 * Holds a socket's writes until the event loop turns, then sends them in one system call.
 *
 * A graphql-ws subscriber's events pass through promise callbacks on their way out, one message
 * each, and Node's own corking ends at the next tick: each event became a write of its own, one
 * system call per event per subscriber, most of a server's CPU at a hundred subscribers. (SSE
 * needs none of this: its writer, `eventStream`, pushes a turn's events as one chunk.) Corked until `setImmediate`, everything written to the socket in one turn of the
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
