import type { Bar, Figure, Goal } from './figure.js';

const cell = (value: string | number): string =>
  typeof value === 'number' ? (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)) : value;

/** A figure's table in Markdown. */
export const markdownTable = (figure: Pick<Figure, 'columns' | 'rows'>): string =>
  [
    `| ${figure.columns.join(' | ')} |`,
    `|${figure.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...figure.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');

/** A goal's verdict as the tables print it. */
export const verdict = (met: boolean | undefined): string => (met === undefined ? '–' : met ? 'met' : 'NOT MET');

type RatioRow = {
  readonly name: string;
  readonly top: string;
  readonly bottom: string;
  readonly goal?: number;
  /** The goal is listed by the figure that measures both sides (not twice in the Goals table). */
  readonly listedByFigure?: boolean;
};

/**
 * Ratios the report leads with: cairn's kernel and HTTP paths against the ceiling, against each
 * other and against Emmett, each with its goal (issue 16) where it has one. `top@c` and
 * `bottom@c` are values of the figures (commands/s at concurrency c).
 */
const ratioRows: readonly RatioRow[] = [
  { name: 'kernel append ÷ ceiling (writes)', top: 'kernel', bottom: 'ceiling', goal: 0.7 },
  { name: 'GraphQL over HTTP ÷ ceiling (writes)', top: 'http', bottom: 'ceiling' },
  { name: 'GraphQL over HTTP ÷ kernel', top: 'http', bottom: 'kernel', goal: 0.8 },
  { name: 'cairn kernel ÷ Emmett (SQL-row projection)', top: 'kernel', bottom: 'peer', goal: 1.2 },
  { name: 'cairn GraphQL over HTTP ÷ Emmett HTTP (emmett-expressjs)', top: 'http-beside-peer-http', bottom: 'peer-http', goal: 1.0, listedByFigure: true },
];

const concurrencies = [1, 8, 32];

const ratioValue = (values: Record<string, number>, row: RatioRow, c: number): number | undefined => {
  const top = values[`${row.top}@${c}`];
  const bottom = values[`${row.bottom}@${c}`];
  return top !== undefined && bottom !== undefined && bottom > 0 ? top / bottom : undefined;
};

const allValues = (figures: readonly Figure[]): Record<string, number> => Object.assign({}, ...figures.map((figure) => figure.values ?? {}));

export const ratios = (figures: readonly Figure[]): Pick<Figure, 'columns' | 'rows'> | undefined => {
  const values = allValues(figures);
  const measured = ratioRows.filter((row) => concurrencies.some((c) => ratioValue(values, row, c) !== undefined));
  const rows = measured.map((row) => {
    const cells = concurrencies.map((c) => ratioValue(values, row, c));
    const known = cells.filter((cell): cell is number => cell !== undefined);
    const met = row.goal === undefined || known.length < concurrencies.length ? undefined : known.every((cell) => cell >= row.goal!);
    return [
      row.name,
      ...cells.map((cell) => (cell === undefined ? '–' : `${cell.toFixed(2)}×`)),
      row.goal === undefined ? '' : `≥ ${row.goal.toFixed(1)}× at every concurrency`,
      row.goal === undefined ? '' : verdict(met),
    ];
  });
  if (rows.length === 0) return undefined;
  return { columns: ['ratio', ...concurrencies.map((c) => `concurrency ${c}`), 'goal', 'this run'], rows };
};

/** The ratios with a goal, as goals (for the Goals table). */
const ratioGoals = (figures: readonly Figure[]): Goal[] => {
  const values = allValues(figures);
  return ratioRows.flatMap((row) => {
    if (row.goal === undefined || row.listedByFigure) return [];
    const cells = concurrencies.map((c) => ratioValue(values, row, c));
    if (cells.every((cell) => cell === undefined)) return [];
    const met = cells.some((cell) => cell === undefined) ? undefined : cells.every((cell) => cell! >= row.goal!);
    return [
      {
        goal: row.name,
        target: `≥ ${row.goal.toFixed(1)}× at concurrency ${concurrencies.join(', ')}`,
        result: cells.map((cell) => (cell === undefined ? '–' : `${cell.toFixed(2)}×`)).join(' / '),
        met,
      },
    ];
  });
};

/** Every goal of the run: the ratios', then each figure's, in report order. */
export const goalsTable = (figures: readonly Figure[]): Pick<Figure, 'columns' | 'rows'> | undefined => {
  const goals = [...ratioGoals(figures), ...figures.flatMap((figure) => figure.goals ?? [])];
  if (goals.length === 0) return undefined;
  return {
    columns: ['goal', 'target', 'this run', 'verdict'],
    rows: goals.map((goal) => [goal.goal, goal.target, goal.result, verdict(goal.met)]),
  };
};

/** A figure's own goals, printed under its table. */
export const figureGoals = (figure: Pick<Figure, 'goals'>): Pick<Figure, 'columns' | 'rows'> | undefined =>
  figure.goals?.length
    ? { columns: ['goal', 'target', 'this run', 'verdict'], rows: figure.goals.map((goal) => [goal.goal, goal.target, goal.result, verdict(goal.met)]) }
    : undefined;

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
  const goals = goalsTable(options.figures);
  const sections = options.figures.map((figure) => {
    const own = figureGoals(figure);
    return [
      `## ${figure.title}`,
      '',
      ...figure.setup.map((line) => `- ${line}`),
      '',
      markdownTable(figure),
      ...(own ? ['', 'Goals:', '', markdownTable(own)] : []),
      ...(figure.notes?.length ? ['', ...figure.notes.map((line) => `- ${line}`)] : []),
      '',
    ].join('\n');
  });
  return [
    `# ${options.title}`,
    '',
    'Produced by `npm run bench` (code in `test/bench/`).',
    '',
    ...options.setup.map((line) => `- ${line}`),
    `- time per part: ${[...options.timings].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(0)} s`).join(', ')}`,
    '',
    ...(goals ? ['## Goals (issue 16)', '', markdownTable(goals), ''] : []),
    ...(summary ? ['## Ratios', '', markdownTable(summary), ''] : []),
    `![chart](${options.chart})`,
    '',
    ...sections,
  ].join('\n');
};
