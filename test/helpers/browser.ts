import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll } from 'vitest';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it), or CAIRN_CHROMIUM. */
export const chromiumPath = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';

/** Headless chromium, one per test file, closed after its tests. Nothing here downloads a browser. */
export const useBrowser = async (): Promise<Browser> => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no chromium at ${chromiumPath}: install Debian's (apt-get install -y chromium) or set CAIRN_CHROMIUM to one`);
  }
  const browser = await chromium.launch({ executablePath: chromiumPath });
  afterAll(() => browser.close());
  return browser;
};

/**
 * Keeps the page on `origins`: any request elsewhere is aborted and recorded, so a test can
 * assert the page works offline (no CDN, no font service, no telemetry).
 */
export const keepOnOrigins = async (page: Page, origins: readonly string[]): Promise<string[]> => {
  const refused: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || url.startsWith('blob:') || origins.some((origin) => url.startsWith(`${origin}/`))) return route.continue();
    refused.push(url);
    return route.abort('blockedbyclient');
  });
  return refused;
};

/** Errors the page threw or logged, to assert there were none. */
export const pageErrors = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  return errors;
};

/** A loopback port nothing listens on now (for a server that must come back on the same one). */
