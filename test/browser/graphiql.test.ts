import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticationHeaders, graphiqlHtml } from '../../src/graphql/graphiql.js';
import { useApp, useHttpServer, useIsolatedDatabase } from '../helpers/app.js';
import { tokenFor, useSecuredServer } from '../helpers/auth.js';
import { keepOnOrigins, pageErrors, useBrowser } from '../helpers/browser.js';
import { root } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * GraphiQL at /graphql in Debian's chromium, walked through as its opening tabs say, under the
 * server's own Content-Security-Policy (a violation would be a console error) and with every
 * request off the server refused: it loads, runs a mutation and a query, and a subscription in a
 * second window lists each event as it commits. CAIRN_SCREENSHOTS=1 rewrites docs/graphiql-subscription.png.
 */
const app = await useApp({ relayPollMs: 100, databaseUrl: await useIsolatedDatabase() }); // its log holds only this test's events
const { base } = await useHttpServer(app);
const browser = await useBrowser();
const relay = app.services.relay;

type Window = { page: Page; refused: string[]; errors: string[] };

/** GraphiQL in a window of its own. */
const openGraphiQL = async (server = base): Promise<Window> => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1200 }, permissions: ['clipboard-read', 'clipboard-write'] });
  afterAll(() => context.close());
  const page = await context.newPage();
  const refused = await keepOnOrigins(page, [server]);
  const errors = pageErrors(page);
  await page.goto(`${server}/graphql`);
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 45_000 }); // 5 MB of script and three workers to parse
  return { page, refused, errors };
};

/**
 * The response pane, parsed from the lines it shows (Monaco draws only the lines in view: the
 * window is tall enough for what this test reads).
 */
const response = async (page: Page): Promise<any> => {
  const text = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.graphiql-response .view-line')]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((line) => line.textContent!.replace(/\u00a0/g, ' '))
      .join('\n'),
  );
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // empty, or still being drawn
  }
};

const run = async (page: Page, operation?: string) => {
  await page.locator('.graphiql-execute-button').click();
  if (operation) await page.getByRole('menuitem', { name: operation, exact: true }).click();
};

describe('GraphiQL', () => {
  it('walks through its opening tabs as written: a subscription in one window lists each event of the commands run in another', async () => {
    const watcher = await openGraphiQL();
    expect(await watcher.page.getByRole('tab').allTextContents()).toEqual([
      expect.stringContaining('WatchEvents'),
      expect.stringContaining('CreateTransaction'),
    ]);

    // 1. WatchEvents, in the first window.
    const listening = relay.listenerCount;
    await run(watcher.page);
    await waitFor(async () => (await response(watcher.page))?.received === 0, 'the subscription to open');
    await waitFor(() => relay.listenerCount > listening, 'the server to listen');

    // 2. The commands, in a second window.
    const actor = await openGraphiQL();
    await actor.page.getByRole('tab', { name: /CreateTransaction/ }).click();
    await run(actor.page, 'CreateTransaction');
    const created = await waitFor(async () => (await response(actor.page))?.data?.createTransaction, 'CreateTransaction to answer');
    expect(created).toMatchObject({ __typename: 'CreateTransactionSuccess', transaction: { status: 'PROCESSING', amount: '12.5', version: 1 } });
    const id: string = created.transaction.id;

    // Paste the id over the placeholder, as the comment says, and complete it.
    await actor.page.locator('.graphiql-query-editor').getByText('"tx_paste_the_id_here"', { exact: true }).dblclick();
    await actor.page.keyboard.insertText(id);
    await run(actor.page, 'CompleteTransaction');
    await waitFor(async () => (await response(actor.page))?.data?.completeTransaction, 'CompleteTransaction to answer');
    expect((await response(actor.page)).data.completeTransaction).toEqual({
      __typename: 'CompleteTransactionSuccess',
      transaction: { id, status: 'COMPLETED', doneBy: 'alice', version: 2 },
    });
    await run(actor.page, 'CompleteTransaction');
    await waitFor(async () => (await response(actor.page))?.data?.completeTransaction?.__typename === 'IllegalStateError', 'the second completion');
    expect((await response(actor.page)).data.completeTransaction).toMatchObject({ code: 'ILLEGAL_STATE' });

    await run(actor.page, 'Transactions');
    await waitFor(async () => (await response(actor.page))?.data?.transactions, 'Transactions to answer');
    const listed = (await response(actor.page)).data.transactions.edges.map((edge: { node: { id: string } }) => edge.node);
    expect(listed.find((node: { id: string }) => node.id === id)).toMatchObject({
      status: 'COMPLETED',
      events: { edges: [{ node: { type: 'TransactionCreated', version: 1 } }, { node: { type: 'TransactionCompleted', version: 2 } }] },
    });

    // Back in the first window: both events, the newest first, accumulated rather than replaced.
    const isOurs = (result: { data: { events: { aggregateId: string } } }) => result.data.events.aggregateId === id;
    const watched = await waitFor(async () => {
      const pane = await response(watcher.page);
      return pane?.newestFirst.filter(isOurs).length === 2 && pane;
    }, 'both events in the first window');
    expect(watched.newestFirst.filter(isOurs).map((result: { data: unknown }) => result.data)).toEqual([
      { events: expect.objectContaining({ __typename: 'TransactionCompleted', type: 'TransactionCompleted', version: 2, doneBy: 'alice' }) },
      { events: expect.objectContaining({ __typename: 'TransactionCreated', type: 'TransactionCreated', version: 1, currency: 'EUR', amount: '12.5' }) },
    ]);
    expect(watched).toEqual({ received: watched.newestFirst.length, newestFirst: expect.any(Array) });
    expect(await watcher.page.locator('.graphiql-response').innerText()).toContain('TransactionCompleted');
    if (process.env.CAIRN_SCREENSHOTS) {
      await watcher.page.setViewportSize({ width: 1280, height: 760 });
      await watcher.page.screenshot({ path: join(root, 'docs', 'graphiql-subscription.png') });
    }

    // The stop button ends the stream on the server too.
    await watcher.page.locator('.graphiql-execute-button').click();
    await waitFor(() => relay.listenerCount === listening, 'the server to stop listening');

    for (const window of [watcher, actor]) {
      expect(window.refused).toEqual([]);
      expect(window.errors).toEqual([]);
    }
  }, 120_000);

  it('opens the headers pane with where the token goes when the server requires one, and sends it, subscriptions included', async () => {
    const secured = await useSecuredServer(app);
    const { page, refused, errors } = await openGraphiQL(secured.base);
    const placeholder = page.locator('.view-line', { hasText: 'npm run token' });
    await placeholder.waitFor(); // the headers pane is open, and says where the token goes

    // Paste a token over the placeholder, as an explorer does.
    const token = await tokenFor('ada', ['cairn:read', 'cairn:write']);
    await page.evaluate((text) => navigator.clipboard.writeText(text), JSON.stringify({ authorization: `Bearer ${token}` }));
    await placeholder.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('ControlOrMeta+V');
    await run(page);
    await waitFor(async () => (await response(page))?.received === 0, 'the subscription to open with the token');
    await page.locator('.graphiql-execute-button').click(); // stop

    await page.getByRole('tab', { name: /CreateTransaction/ }).click();
    await placeholder.click(); // every tab opens with the placeholder
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('ControlOrMeta+V');
    await run(page, 'CreateTransaction');
    const created = await waitFor(async () => (await response(page))?.data?.createTransaction, 'CreateTransaction to answer with the token');
    expect(created).toMatchObject({ __typename: 'CreateTransactionSuccess' });
    expect(refused).toEqual([]);
    // Only the 401s of the schema's fetch with the placeholder, before the token was pasted.
    expect(errors.filter((error) => !error.includes('status of 401'))).toEqual([]);
  }, 120_000);

  it('prefills the headers pane with where the token goes when the server requires one', () => {
    const options = (authentication: boolean) => {
      const page = graphiqlHtml({ endpoint: '/graphql', authentication });
      return JSON.parse(page.match(/<script type="application\/json" id="cairn-graphiql-options">(.*?)<\/script>/s)![1]!).graphiql;
    };
    expect(options(true)).toMatchObject({ defaultHeaders: authenticationHeaders, defaultEditorToolsVisibility: 'headers' });
    expect(options(true).defaultTabs.map((tab: { headers: string }) => tab.headers)).toEqual([authenticationHeaders, authenticationHeaders]);
    expect(options(false).defaultHeaders).toBeUndefined();
  });
});
