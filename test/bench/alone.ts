import { pathToFileURL } from 'node:url';
import { createLogger } from '../../src/logger.js';
import type { FigureRunner } from './figure.js';
import { figureGoals, markdownTable } from './report.js';
import { provideTarget } from './target.js';

/**
 * A bench file run on its own (`npx tsx test/bench/<part>.ts`) rather than through `npm run
 * bench`: when `moduleUrl` is the script node was started with, runs `runners` on a database of
 * their own and prints each figure as the report would (setup, table, goals, notes), then the
 * time it took. Call it at the end of the file with `import.meta.url`.
 */
export const runAlone = async (moduleUrl: string, name: string, ...runners: readonly FigureRunner[]): Promise<void> => {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const started = performance.now();
  const logger = createLogger('warn', { component: 'bench' });
  const target = await provideTarget(logger);
  try {
    const progress = (line: string) => process.stderr.write(`${line}\n`);
    for (const runner of runners) {
      for (const figure of await runner({ target, logger, progress })) {
        const goals = figureGoals(figure);
        console.log(`\n## ${figure.title}\n\n${figure.setup.map((line) => `- ${line}`).join('\n')}\n\n${markdownTable(figure)}\n${goals ? `\n${markdownTable(goals)}\n` : ''}`);
        for (const note of figure.notes ?? []) console.log(`- ${note}`);
      }
    }
  } finally {
    await target.stop();
    console.log(`\n${name}: ${((performance.now() - started) / 1_000).toFixed(1)} s in all`);
  }
};
