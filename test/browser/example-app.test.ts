import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { createGraphQLServer } from '../../src/server.js';
import { serveAppOnPort, useIsolatedDatabase, testLogger } from '../helpers/app.js';
import { startSecuredServer, tokenFor } from '../helpers/auth.js';
import { freePort } from '../../src/free-port.js';
import { keepOnOrigins, pageErrors, useBrowser } from '../helpers/browser.js';
import { buildExample, ensureExampleInstalled, previewExample } from '../helpers/example-web.js';
import { execute } from '../helpers/graphql.js';
import { root } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The example frontend (examples/web) built by Vite, served by `vite preview` (which proxies
 * /graphql to cairn, as `npm run example` does) and driven in Debian's chromium, on a database of
 * its own so that its event log holds only what this test wrote. Another client writes through
 * a second cairn instance on the same database, which keeps running while the served one restarts.
 * CAIRN_SCREENSHOTS=1 rewrites docs/example-app.png.
 */
const databaseUrl = await useIsolatedDatabase();
const cairnPort = await freePort();
const cairnUrl = `http://127.0.0.1:${cairnPort}`;

const serve = () => serveAppOnPort(cairnPort, { databaseUrl, logger: testLogger, relayPollMs: 100 });
let served = await serve();
afterAll(() => served.stop());

const other = await startApp({ databaseUrl, logger: testLogger, relayPollMs: 100, processManagers: [] });
afterAll(() => other.close());
const otherClient = createGraphQLServer(other.services);

ensureExampleInstalled();
const outDir = mkdtempSync(join(tmpdir(), 'cairn-example-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));
await buildExample(outDir);
const { url } = await previewExample(outDir, await freePort(), cairnUrl);
// The same build in front of a cairn that requires tokens (HS256 with the tests' secret).
const secured = await startSecuredServer(other);
afterAll(() => secured.http.close());
const securedPreview = await previewExample(outDir, await freePort(), secured.base);
const browser = await useBrowser();

const openAccount = async (owner: string, initialBalance: string): Promise<string> => {
  const { data } = await execute(otherClient, `mutation ($input: OpenAccountInput!) {
    openAccount(input: $input) { __typename ... on OpenAccountSuccess { account { id } } ... on Error { code } }
  }`, { input: { owner, currency: 'EUR', initialBalance } });
  return data!.openAccount.account.id;
};
const credit = async (accountId: string, amount: string) => {
  const { data } = await execute(otherClient, `mutation ($input: CreditAccountInput!) {
    creditAccount(input: $input) { __typename ... on Error { code } }
  }`, { input: { accountId, amount } });
  expect(data!.creditAccount.__typename).toBe('CreditAccountSuccess');
};
/** The whole log, in commit order, as the `events` query pages it. */
const logIds = async (): Promise<string[]> => {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { events: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const { data }: { data?: Page } = await execute<Page>(otherClient, `query ($after: String) {
      events(after: $after, first: 500) { edges { node { id } } pageInfo { hasNextPage endCursor } }
    }`, { after });
    ids.push(...data!.events.edges.map((edge) => edge.node.id));
    if (!data!.events.pageInfo.hasNextPage) return ids;
    after = data!.events.pageInfo.endCursor;
  }
};
/** The page's event log, oldest first (it shows the newest first). */
const shownLog = (page: Page) => page.locator('[data-testid=event-log] li').evaluateAll((items) => items.map((item) => item.getAttribute('data-id')!).reverse());
const balance = (page: Page, id: string) => page.getByTestId(`balance-${id}`).textContent();

describe('the example frontend in chromium', () => {
  it('shows live balances, runs a transfer saga to COMPLETED, and keeps its event log whole across a server restart', async () => {
    const ada = await openAccount('ada', '100.00');
    const bob = await openAccount('bob', '10');
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const refused = await keepOnOrigins(page, [url]);
    const errors = pageErrors(page);
    await page.goto(url);
    await waitFor(async () => (await balance(page, ada)) === '€100.00' && (await balance(page, bob)) === '€10.00', 'both accounts listed');

    // Another client's credit shows within a second.
    await waitFor(async () => (await shownLog(page)).length === 2, 'the two openings in the log');
    await credit(ada, '5');
    const credited = Date.now();
    await waitFor(async () => (await balance(page, ada)) === '€105.00', 'the credit on screen', 1_000);
    expect(Date.now() - credited).toBeLessThan(1_000);

    // A transfer through the form: CREATED, then the saga's steps, live.
    await page.getByLabel('From', { exact: true }).selectOption(ada);
    await page.getByLabel('To', { exact: true }).selectOption(bob);
    await page.getByLabel('Amount', { exact: true }).fill('67');
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    const transfer = page.locator('[data-transfer]');
    await waitFor(async () => (await transfer.getAttribute('data-status')) === 'COMPLETED', 'the transfer to complete');
    expect(await transfer.locator('.step').allTextContents()).toEqual(expect.arrayContaining(['CREATED', 'COMPLETED']));
    await waitFor(async () => (await balance(page, ada)) === '€38.00' && (await balance(page, bob)) === '€77.00', 'both balances moved');
    expect(await shownLog(page)).toEqual(await logIds());

    // The served instance restarts; commits go on through the other one meanwhile.
    await served.stop();
    await credit(bob, '1');
    await credit(bob, '2');
    served = await serve();
    await credit(bob, '3');
    await waitFor(async () => (await balance(page, bob)) === '€83.00', 'the balance after the restart', 20_000);
    const log = await logIds();
    await waitFor(async () => (await shownLog(page)).length >= log.length, 'the log to catch up', 20_000);
    expect(await shownLog(page)).toEqual(log); // every event once, in commit order: no gap, no duplicate
    expect(await page.getByTestId('log-count').textContent()).toBe(`${log.length} events`);

    if (process.env.CAIRN_SCREENSHOTS) await page.screenshot({ path: join(root, 'docs', 'example-app.png') });
    expect(refused).toEqual([]);
    expect(errors.filter((error) => !/WebSocket|ERR_CONNECTION_REFUSED|502|Failed to load resource/.test(error))).toEqual([]);
    await page.close();
  }, 90_000);

  it('works against a cairn that requires tokens once the token field has one', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const refused = await keepOnOrigins(page, [securedPreview.url]);
    await page.goto(securedPreview.url);
    await waitFor(async () => (await page.getByRole('alert').allTextContents()).some((text) => /token|authenticat/i.test(text)), 'the missing token said');

    await page.getByLabel('Token', { exact: true }).fill(await tokenFor('grace', ['cairn:read', 'cairn:write']));
    await page.getByRole('button', { name: 'Use token', exact: true }).click();
    const rows = page.locator('tr[data-account]');
    const ids = () => rows.evaluateAll((items) => items.map((item) => item.getAttribute('data-account')!));
    await page.getByRole('button', { name: 'Open account', exact: true }).click(); // no owner: the token's `sub`
    const [first] = await waitFor(async () => ((await ids()).length === 1 ? ids() : undefined), 'grace’s first account listed');
    await page.getByLabel('Owner', { exact: true }).fill('grace');
    await page.getByLabel('Initial balance', { exact: true }).fill('5');
    await page.getByRole('button', { name: 'Open account', exact: true }).click();
    const second = await waitFor(async () => (await ids()).find((id) => id !== first), 'grace’s second account listed');
    expect(await balance(page, first!)).toBe('€100.00');

    await credit(first!, '1'); // another client, on the open instance
    await waitFor(async () => (await balance(page, first!)) === '€101.00', 'the credit, live over an authenticated WebSocket');

    await page.getByLabel('From', { exact: true }).selectOption(first!);
    await page.getByLabel('To', { exact: true }).selectOption(second!);
    await page.getByLabel('Amount', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await waitFor(async () => (await page.locator('[data-transfer]').getAttribute('data-status')) === 'COMPLETED', 'the transfer to complete');
    // grace's log: her own accounts' and transfer's events only (per-event filtering), from the start, live.
    const shown = await page.locator('[data-testid=event-log] li code:not(.type)').allTextContents();
    expect(new Set(shown.filter((id) => id.startsWith('acc_')))).toEqual(new Set([first, second]));
    expect(refused).toEqual([]);
    await page.close();
  }, 90_000);
});
