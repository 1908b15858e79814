/**
 * The release gate. Per metric: an absolute threshold (the candidate's mean must reach `min`), a ceiling
 * on scorer errors, and no regression against a baseline run. Regression is tested on cases both runs
 * scored: each case's score is first averaged over its repeats, the paired differences (candidate −
 * baseline) are bootstrapped (seeded, percentile), and a regression is declared only when the whole
 * confidence interval of the mean difference lies below −margin. Scorer errors are counted and reported,
 * never averaged in.
 */
import type { RunResult } from './run-files.ts';
import { isScoreError } from './scorers/scorer.ts';
import { type BootstrapOptions, bootstrapMeanCI, mean } from './stats.ts';

export interface MetricGate {
  /** Absolute threshold: the candidate's mean must be at least this. */
  min?: number;
  /** Regression margin for this metric (default: the gate's `margin`). */
  margin?: number;
  /** Highest tolerated share of errored scores (default: the gate's `maxErrorRate`). */
  maxErrorRate?: number;
}

export interface GateOptions {
  candidate: readonly RunResult[];
  baseline?: readonly RunResult[];
  /** The metrics to gate and their thresholds. Default: every metric the candidate has, with no `min`. */
  metrics?: Record<string, MetricGate>;
  /** How far below the baseline the CI must lie to call a regression (default 0.02). */
  margin?: number;
  /** Default 0.1: more errors than this share of a metric's scores fails it. */
  maxErrorRate?: number;
  /** Resamples (default 2000), seed (default 1), confidence (default 0.95). */
  bootstrap?: BootstrapOptions;
  /** Fewest paired cases for a regression verdict (default 5); fewer is reported as inconclusive. */
  minPairs?: number;
}

export interface SideStats {
  /** Mean over cases of each case's mean over repeats; null when nothing was scored. */
  mean: number | null;
  /** Cases with at least one score. */
  cases: number;
  /** Scored (case, repeat) pairs. */
  scored: number;
  /** Errored (case, repeat) pairs: not in the mean. */
  errors: number;
  errorRate: number;
}

export interface Comparison {
  /** Cases scored in both runs. */
  n: number;
  /** Mean of the paired differences, candidate − baseline. */
  meanDiff: number;
  ci: [number, number];
  confidence: number;
  regression: boolean;
}

export interface MetricVerdict {
  metric: string;
  pass: boolean;
  /** The checks that failed, one sentence each (empty when `pass`). */
  failures: string[];
  /** The checks that passed or could not be made, one sentence each. */
  notes: string[];
  candidate: SideStats;
  baseline?: SideStats;
  comparison?: Comparison;
  min?: number;
  margin: number;
}

export interface GateVerdict {
  pass: boolean;
  metrics: MetricVerdict[];
}

/** Per-case means (over repeats) of one metric, plus the count of errored pairs. */
export function caseMeans(
  results: readonly RunResult[],
  metric: string,
): { byCase: Map<string, number>; scored: number; errors: number } {
  const sums = new Map<string, { sum: number; count: number }>();
  let scored = 0;
  let errors = 0;
  for (const result of results) {
    const score = result.scores[metric];
    if (score === undefined) continue;
    if (isScoreError(score)) {
      errors++;
      continue;
    }
    scored++;
    const entry = sums.get(result.caseId) ?? { sum: 0, count: 0 };
    entry.sum += score.value;
    entry.count++;
    sums.set(result.caseId, entry);
  }
  const byCase = new Map([...sums].map(([id, { sum, count }]) => [id, sum / count]));
  return { byCase, scored, errors };
}

function sideStats(
  results: readonly RunResult[],
  metric: string,
): SideStats & { byCase: Map<string, number> } {
  const { byCase, scored, errors } = caseMeans(results, metric);
  const m = mean([...byCase.values()]);
  return {
    byCase,
    mean: Number.isNaN(m) ? null : m,
    cases: byCase.size,
    scored,
    errors,
    errorRate: scored + errors === 0 ? 0 : errors / (scored + errors),
  };
}

/**
 * @example
 * const verdict = gate({ candidate: loadRun(dir).results, baseline: loadRun(base).results,
 *   metrics: { faithfulness: { min: 0.8 }, exact: {} } });
 * if (!verdict.pass) process.exitCode = 1;
 */
export function gate(options: GateOptions): GateVerdict {
  const metricNames = options.metrics
    ? Object.keys(options.metrics)
    : [...new Set(options.candidate.flatMap((r) => Object.keys(r.scores)))].sort();
  const metrics = metricNames.map((metric) => gateMetric(metric, options.metrics?.[metric] ?? {}, options));
  return { pass: metrics.length > 0 && metrics.every((m) => m.pass), metrics };
}

function gateMetric(metric: string, config: MetricGate, options: GateOptions): MetricVerdict {
  const margin = config.margin ?? options.margin ?? 0.02;
  const maxErrorRate = config.maxErrorRate ?? options.maxErrorRate ?? 0.1;
  const minPairs = options.minPairs ?? 5;
  const failures: string[] = [];
  const notes: string[] = [];
  const { byCase: candidateCases, ...candidate } = sideStats(options.candidate, metric);
  const verdict: MetricVerdict = { metric, pass: true, failures, notes, candidate, margin };
  if (config.min !== undefined) verdict.min = config.min;

  if (candidate.mean === null) failures.push(`no scores for ${metric} in the candidate run`);
  else if (config.min !== undefined)
    (candidate.mean >= config.min ? notes : failures).push(
      `mean ${fmt(candidate.mean)} ${candidate.mean >= config.min ? '≥' : '<'} threshold ${fmt(config.min)}`,
    );
  const errorNote = `${candidate.errors} scorer errors (${pct(candidate.errorRate)} of pairs; ceiling ${pct(maxErrorRate)})`;
  if (candidate.errorRate > maxErrorRate) failures.push(errorNote);
  else if (candidate.errors > 0) notes.push(errorNote);

  if (options.baseline) {
    const { byCase: baselineCases, ...baseline } = sideStats(options.baseline, metric);
    verdict.baseline = baseline;
    const diffs = [...candidateCases]
      .filter(([id]) => baselineCases.has(id))
      .map(([id, value]) => value - baselineCases.get(id)!);
    if (baseline.mean === null) notes.push(`the baseline has no ${metric} scores: no regression check`);
    else if (diffs.length === 0) failures.push('no case was scored in both the candidate and the baseline');
    else {
      const confidence = options.bootstrap?.confidence ?? 0.95;
      const ci = bootstrapMeanCI(diffs, options.bootstrap);
      const meanDiff = mean(diffs);
      const enough = diffs.length >= minPairs;
      const regression = enough && ci[1] < -margin;
      verdict.comparison = { n: diffs.length, meanDiff, ci, confidence, regression };
      const interval = `${pct(confidence)} CI of the difference [${signed(ci[0])}, ${signed(ci[1])}] over ${diffs.length} cases`;
      if (!enough)
        notes.push(`only ${diffs.length} paired cases (< ${minPairs}): regression check inconclusive`);
      else if (regression) failures.push(`regression: ${interval} lies below −${fmt(margin)}`);
      else notes.push(`no regression: ${interval} does not lie below −${fmt(margin)}`);
    }
  }
  verdict.pass = failures.length === 0;
  return verdict;
}

function fmt(value: number): string {
  return value.toFixed(3);
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

function pct(value: number): string {
  return `${Math.round(value * 1000) / 10}%`;
}
