import { describe, expect, it } from 'vitest';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { textFrames } from '../../src/http/websocket-frames.js';

/** The messages a WebSocket client reads from `bytes` (ws's own frame parser, as a client runs it). */
const received = (bytes: Buffer): Promise<string[]> =>
  new Promise((resolve, reject) => {
    const messages: string[] = [];
    // ws's frame parser, which its types do not name.
    const Receiver = (ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable }).Receiver;
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(false);
      messages.push(data.toString());
    });
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(messages));
  });

describe('textFrames', () => {
  it('frames one text message per payload, each the head, the payload and the tail, in order, at every length encoding', async () => {
    const head = Buffer.from('{"id":"é1","type":"next","payload":');
    const payloads = [10, 80, 200, 70_000].map((size, n) => Buffer.from(JSON.stringify({ n, pad: 'ü'.repeat(size) })));
    const bytes = textFrames(head, payloads, Buffer.from('}'));
    expect(await received(bytes)).toEqual(payloads.map((payload) => `${head.toString()}${payload.toString()}}`));
  });
});
