import type { Bar, Figure } from './figure.js';

const cell = (value: string | number): string =>
  typeof value === 'number' ? (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)) : value;

/** A figure's table in Markdown. */
export const markdownTable = (figure: Pick<Figure, 'columns' | 'rows'>): string =>
  [
    `| ${figure.columns.join(' | ')} |`,
    `|${figure.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...figure.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');

/** Ratios the report leads with: cairn's kernel and HTTP paths against the ceiling, and against Emmett. */
export const ratios = (figures: readonly Figure[]): Pick<Figure, 'columns' | 'rows'> | undefined => {
  const values: Record<string, number> = Object.assign({}, ...figures.map((figure) => figure.values ?? {}));
  const concurrencies = [1, 8, 32];
  const ratio = (a: string, b: string, c: number) => {
    const top = values[`${a}@${c}`];
    const bottom = values[`${b}@${c}`];
    return top !== undefined && bottom !== undefined && bottom > 0 ? `${(top / bottom).toFixed(2)}×` : '–';
  };
  const rows = [
    ['kernel append ÷ ceiling', ...concurrencies.map((c) => ratio('kernel', 'ceiling', c))],
    ['GraphQL over HTTP ÷ ceiling', ...concurrencies.map((c) => ratio('http', 'ceiling', c))],
    ['cairn kernel ÷ Emmett', ...concurrencies.map((c) => ratio('kernel', 'peer', c))],
  ];
  if (rows.every((row) => row.slice(1).every((value) => value === '–'))) return undefined;
  return { columns: ['ratio', ...concurrencies.map((c) => `concurrency ${c}`)], rows };
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const number = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : value >= 10 ? value.toFixed(1) : value.toFixed(2);

/**
 * One panel per figure with bars, each on its own scale (throughputs and latencies do not share
 * an axis): a bar per value, labelled with its group and label and the value with its unit.
 */
export const svgChart = (title: string, figures: readonly Figure[]): string => {
  const width = 960;
  const labelWidth = 330;
  const barHeight = 18;
  const gap = 6;
  const panelGap = 34;
  const barArea = width - labelWidth - 130;
  const panels = figures.filter((figure) => (figure.bars?.length ?? 0) > 0);
  let y = 48;
  const parts: string[] = [
    `<text x="16" y="28" font-size="18" font-weight="bold">${escape(title)}</text>`,
  ];
  for (const figure of panels) {
    const bars = figure.bars as readonly Bar[];
    const max = Math.max(...bars.map((bar) => bar.value), Number.MIN_VALUE);
    parts.push(`<text x="16" y="${y + 14}" font-size="14" font-weight="bold">${escape(figure.title)}</text>`);
    y += 24;
    for (const bar of bars) {
      const length = Math.max(1, (bar.value / max) * barArea);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escape(`${bar.group} · ${bar.label}`)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="#4a7fb5"/>`,
        `<text x="${labelWidth + length + 6}" y="${y + 13}" font-size="12">${escape(`${number(bar.value)} ${bar.unit}`)}</text>`,
      );
      y += barHeight + gap;
    }
    y += panelGap - gap;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
};

/** The whole report in Markdown. */
export const markdownReport = (options: {
  readonly title: string;
  readonly setup: readonly string[];
  readonly chart: string;
  readonly figures: readonly Figure[];
  readonly timings: ReadonlyMap<string, number>;
}): string => {
  const summary = ratios(options.figures);
  const sections = options.figures.map((figure) =>
    [
      `## ${figure.title}`,
      '',
      ...figure.setup.map((line) => `- ${line}`),
      '',
      markdownTable(figure),
      ...(figure.notes?.length ? ['', ...figure.notes.map((line) => `- ${line}`)] : []),
      '',
    ].join('\n'),
  );
  return [
    `# ${options.title}`,
    '',
    'Produced by `npm run bench` (code in `test/bench/`).',
    '',
    ...options.setup.map((line) => `- ${line}`),
    `- time per part: ${[...options.timings].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(0)} s`).join(', ')}`,
    '',
    ...(summary ? ['## Ratios', '', markdownTable(summary), ''] : []),
    `![chart](${options.chart})`,
    '',
    ...sections,
  ].join('\n');
};
