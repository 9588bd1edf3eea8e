import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { waitFor, within } from '../helpers/wait.js';

const app = await useApp();
const { http, port, base } = await useHttpServer(app, { webSocketPingMs: 200, connectionInitTimeoutMs: 300, eventStreamPingMs: 200 });
const url = `${base}/graphql`;

/** Reads an SSE response as text, chunk by chunk. */
const reader = (response: Response) => {
  const stream = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    get text() {
      return text;
    },
    async readUntil(done: (text: string) => boolean, what: string) {
      while (!done(text)) {
        const { value, done: ended } = await within(stream.read(), what);
        if (ended) return false;
        text += decoder.decode(value, { stream: true });
      }
      return true;
    },
    cancel: () => stream.cancel().catch(() => undefined),
  };
};

const openSse = async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: 'subscription ($id: ID!) { events(aggregateId: $id) { id } }', variables: { id: newId('tx') } }),
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return reader(response);
};

const openSocket = () => new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
const closeCode = (socket: WebSocket) =>
  new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

describe('connections', () => {
  it('keeps SSE streams alive with pings', async () => {
    const sse = await openSse();
    // A ping is an SSE comment line: one at once, then one every `eventStreamPingMs`.
    await sse.readUntil((text) => (text.match(/^:\n\n/gm) ?? []).length >= 3, 'three pings');
    expect((sse.text.match(/^:\n\n/gm) ?? []).length).toBeGreaterThanOrEqual(3);
    await sse.cancel();
  });

  it('answers graphql-ws pings with pongs', async () => {
    const socket = openSocket();
    const messages: { type: string }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await waitFor(() => messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
    socket.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => messages.some((m) => m.type === 'pong'), 'a pong');
    socket.close();
  });

  it('closes a WebSocket that never sends connection_init (4408)', async () => {
    const socket = openSocket();
    expect(await within(closeCode(socket), 'the socket to be closed')).toBe(4408);
  });

  it('ends a WebSocket whose peer stops answering pings', async () => {
    const socket = openSocket();
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    // Stop answering protocol-level pings, as a vanished peer would.
    (socket as unknown as { pong: () => void }).pong = () => undefined;
    socket.removeAllListeners('ping');
    const code = await within(closeCode(socket), 'the dead socket to be ended');
    expect(code).not.toBe(1000);
  });

  it('drops open streams on shutdown, never ends them: SSE breaks off without complete, WebSockets close with 1012', async () => {
    const sse = await openSse();
    await sse.readUntil((text) => text.includes(':\n\n'), 'the first ping');
    const socket = openSocket();
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    const wsClosed = closeCode(socket);
    await within(http.close(), 'the server to close');
    const outcome = await sse.readUntil((text) => text.includes('event: complete'), 'the stream to end').then(
      (completed) => (completed ? 'completed' : 'ended'),
      () => 'broken off',
    );
    expect(outcome).toBe('broken off');
    expect(sse.text).not.toContain('event: complete');
    expect(await wsClosed).toBe(1012);
  });
});
