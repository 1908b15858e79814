/**
 * The gate and its reports as `keel eval run|report|gate` use them: `--min METRIC=X` thresholds, the
 * verdict over two stored runs, the terminal table, and the markdown / HTML / JSON files asked for.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from 'commander';
import {
  caseRows,
  type EvalCase,
  formatJson,
  formatMarkdown,
  formatTable,
  type GateVerdict,
  gate,
  type MetricGate,
  type ReportInput,
  type ReportRun,
  renderHtml,
} from '../evals/index.ts';
import { EvalUsageError } from './eval-errors.ts';

export type Thresholds = Record<string, number>;

/** Collects repeated `--min METRIC=X` (X in 0..1) into one object. */
export function collectMin(value: string, previous: Thresholds = {}): Thresholds {
  const eq = value.lastIndexOf('=');
  const metric = eq < 0 ? '' : value.slice(0, eq).trim();
  const x = eq < 0 ? Number.NaN : Number(value.slice(eq + 1));
  if (metric === '' || !Number.isFinite(x) || x < 0 || x > 1)
    throw new InvalidArgumentError(`"${value}": expected METRIC=X with X between 0 and 1, e.g. exact=0.9`);
  return { ...previous, [metric]: x };
}

/** `--margin X`: how far below the baseline the confidence interval must lie to call a regression. */
export function parseMargin(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x >= 1)
    throw new InvalidArgumentError('must be a number ≥ 0 and < 1, e.g. 0.02');
  return x;
}

export interface VerdictOptions {
  candidate: ReportRun;
  baseline?: ReportRun | undefined;
  min?: Thresholds | undefined;
  margin?: number | undefined;
}

/**
 * The gate over every metric the candidate run was scored with; `--min` names must be among them.
 * @throws Error naming an unknown `--min` metric and the run's metrics.
 */
export function verdictOf(options: VerdictOptions): GateVerdict {
  const metrics = options.candidate.config.scorers.map((s) => s.name);
  const unknown = Object.keys(options.min ?? {}).filter((m) => !metrics.includes(m));
  if (unknown.length)
    throw new EvalUsageError(
      `--min: no metric ${unknown.map((m) => `"${m}"`).join(', ')} in this run (metrics: ${metrics.join(', ')})`,
    );
  const gated: Record<string, MetricGate> = {};
  for (const metric of metrics) {
    const min = options.min?.[metric];
    gated[metric] = min === undefined ? {} : { min };
  }
  return gate({
    candidate: options.candidate.results,
    ...(options.baseline ? { baseline: options.baseline.results } : {}),
    metrics: gated,
    ...(options.margin !== undefined ? { margin: options.margin } : {}),
  });
}

export interface ReportFiles {
  md?: string | undefined;
  html?: string | undefined;
  json?: string | undefined;
}

/** Writes the reports asked for; returns the files written. */
export function writeReports(input: ReportInput, files: ReportFiles): string[] {
  const title = `Eval: ${input.candidate.config.target}`;
  const written: string[] = [];
  const write = (file: string | undefined, text: () => string) => {
    if (file === undefined) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text());
    written.push(file);
  };
  write(files.md, () => formatMarkdown(input, { title }));
  write(files.html, () => renderHtml(input, { title }));
  write(files.json, () => formatJson(input));
  return written;
}

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

/** Prints the verdict (table, or JSON with `json`) and writes the reports; returns the exit code. */
export function present(
  io: Printer,
  input: { verdict: GateVerdict; candidate: ReportRun; baseline?: ReportRun | undefined; cases?: EvalCase[] },
  options: { json?: boolean | undefined; files?: ReportFiles },
): number {
  const report: ReportInput = {
    verdict: input.verdict,
    candidate: input.candidate,
    ...(input.baseline ? { baseline: input.baseline } : {}),
    ...(input.cases ? { cases: input.cases } : {}),
  };
  io.out(
    options.json
      ? formatJson(report)
      : `${heading(report)}\n\n${formatTable(input.verdict)}${dropped(report)}`,
  );
  for (const file of writeReports(report, options.files ?? {})) io.err(`wrote ${file}\n`);
  return input.verdict.pass ? 0 : 1;
}

function heading({ candidate, baseline }: ReportInput): string {
  const run = (r: ReportRun) => `${r.config.target} (${r.results.length} pairs)`;
  const { name, version } = candidate.config.dataset;
  return `${name}@${version}: ${run(candidate)}${baseline ? ` vs baseline ${run(baseline)}` : ''}`;
}

/** The cases whose scores dropped most against the baseline, a few lines for the terminal. */
function dropped(input: ReportInput, worst = 5): string {
  if (!input.baseline) return '';
  const rows = caseRows(input).filter((row) => row.delta < 0);
  if (rows.length === 0) return '';
  const lines = rows.slice(0, worst).map((row) => {
    const changes = Object.entries(row.metrics)
      .filter(([, m]) => m.diff !== undefined && m.diff < 0)
      .map(([metric, m]) => `${metric} ${m.baseline!.toFixed(3)} → ${m.candidate!.toFixed(3)}`);
    return `  ${row.caseId}: ${changes.join(', ')}`;
  });
  const more = rows.length > worst ? `\n  … and ${rows.length - worst} more` : '';
  return `\n${rows.length} case(s) dropped against the baseline:\n${lines.join('\n')}${more}\n`;
}
