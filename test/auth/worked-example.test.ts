import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { databaseUrl } from '../helpers/app.js';
import { root, startServer, tsx } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The README's worked example of access control, run as pasted (issue 14): mint a token with
 * `npm run token`, run a mutation with curl, subscribe with curl over SSE. Only the port differs:
 * the server here listens on a free one, started as the example's `npm start &` line says.
 */
const readme = readFileSync(`${root}/README.md`, 'utf8');
const block = /\*\*A worked example\*\*[^\n]*\n\n```bash\n([\s\S]*?)```/.exec(readme)![1]!;
/** One shell command per entry: continuation lines joined. */
const commands = block.replace(/\\\n\s*/g, ' ').split('\n').filter((line) => line.trim() !== '');

describe('the README’s worked example', () => {
  it('mints a token, runs a mutation as its subject and streams its events', async () => {
    const [exportLine, startLine, tokenLine, mutation, subscription] = commands;
    expect(exportLine).toMatch(/^export CAIRN_JWT_SECRET=/);
    expect(startLine).toMatch(/npm start &/);
    const secret = /^export CAIRN_JWT_SECRET=(\S+)/.exec(exportLine!)![1]!;
    const server = await startServer(tsx('src/main.ts'), { DATABASE_URL: databaseUrl(), CAIRN_JWT_SECRET: secret });
    const port = new URL(server.base).port;
    const shell = (command: string) => command.replaceAll('localhost:4000', `127.0.0.1:${port}`);
    const prelude = `set -euo pipefail\n${exportLine}\n${tokenLine}\n`;
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root };

    const { stdout } = await promisify(execFile)('bash', ['-c', `${prelude}${shell(mutation!)}`], { cwd: root, env });
    const opened = JSON.parse(stdout) as { data: { openAccount: { __typename: string; account: { id: string; owner: string; balance: string } } } };
    expect(opened.data.openAccount).toMatchObject({ __typename: 'OpenAccountSuccess', account: { owner: 'ada', balance: '10' } });

    const stream = spawn('bash', ['-c', `${prelude}${shell(subscription!)}`], { cwd: root, env, detached: true });
    onTestFinished(() => {
      try {
        process.kill(-stream.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    });
    let received = '';
    stream.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await waitFor(() => received.startsWith(':'), 'the event stream to open', 30_000);
    const second = await promisify(execFile)('bash', ['-c', `${prelude}${shell(mutation!)}`], { cwd: root, env });
    const id = (JSON.parse(second.stdout) as typeof opened).data.openAccount.account.id;
    const events = () =>
      [...received.matchAll(/^data: (\{.*\})$/gm)].map((match) => (JSON.parse(match[1]!) as { data: { events: { __typename: string; aggregateId: string } } }).data.events);
    await waitFor(() => events().some((event) => event.aggregateId === id), 'the new account’s event on the stream');
    expect(events().filter((event) => event.aggregateId === id)).toEqual([{ __typename: 'AccountOpened', aggregateId: id, version: 1 }]);
    // Never someone else's account: the first one, opened by Ada before the stream, is hers too and not replayed.
    expect(events().some((event) => event.aggregateId === opened.data.openAccount.account.id)).toBe(false);
  }, 120_000);
});
