import net from 'node:net';
import { databaseUrl } from './app.js';

/**
 * Counts the writes this process makes to the test database's sockets, one per round trip a
 * client starts (postgres.js sends what it has queued in one write). `stop` puts `write` back.
 */
export const countDatabaseWrites = (): { readonly count: () => number; readonly stop: () => void } => {
  const port = Number(new URL(databaseUrl()).port || 5432);
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === port) writes += 1;
    return (write as (...all: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  return {
    count: () => writes,
    stop: () => {
      net.Socket.prototype.write = write;
    },
  };
};
