import { it } from 'vitest';
import { newId } from '../src/eventstore/ids.js';
import { useApp } from './/helpers/app.js';
const app = await useApp({ relayPollMs: 100 });
it('x', async () => {
  const t0 = performance.now();
  const log = (s: string) => console.log(s, (performance.now() - t0).toFixed(0));
  const response = await app.yoga.fetch('http://cairn.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: 'subscription ($id: ID!) { events(aggregateId: $id) { id } }', variables: { id: newId('chk') } }) });
  log('fetched');
  const reader = response.body!.getReader();
  const reading = (async () => { for (;;) { const r = await reader.read(); log('read ' + r.done); if (r.done) return; } })();
  await new Promise((r) => setTimeout(r, 300));
  log('cancel');
  await reader.cancel();
  log('cancelled');
  await reading;
  log('reading done');
});
