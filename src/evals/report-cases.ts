/**
 * Per-case comparison rows shared by the reports: each case's mean score per metric in the candidate and
 * the baseline run (over repeats, errors left out), their difference, and the pairs behind them.
 */
import type { EvalCase } from './case.ts';
import { caseMeans, type GateVerdict } from './gate.ts';
import type { RunConfig, RunResult } from './run-files.ts';

export interface ReportRun {
  config: RunConfig;
  results: readonly RunResult[];
}

export interface ReportInput {
  verdict: GateVerdict;
  candidate: ReportRun;
  baseline?: ReportRun;
  /** The dataset's cases, to show each case's input and expected answer (HTML report). */
  cases?: readonly EvalCase[];
}

export interface CaseMetric {
  candidate?: number;
  baseline?: number;
  diff?: number;
}

export interface CaseRow {
  caseId: string;
  metrics: Record<string, CaseMetric>;
  /** Sum of the metric differences: the most negative rows are the worst regressions. */
  delta: number;
  candidate: RunResult[];
  baseline: RunResult[];
}

export function caseRows(input: ReportInput): CaseRow[] {
  const metrics = input.verdict.metrics.map((m) => m.metric);
  const candidateMeans = new Map(metrics.map((m) => [m, caseMeans(input.candidate.results, m).byCase]));
  const baselineMeans = new Map(metrics.map((m) => [m, caseMeans(input.baseline?.results ?? [], m).byCase]));
  const ids = [
    ...new Set([...input.candidate.results, ...(input.baseline?.results ?? [])].map((r) => r.caseId)),
  ];
  return ids
    .map((caseId) => {
      const row: CaseRow = {
        caseId,
        metrics: {},
        delta: 0,
        candidate: byRepeat(input.candidate.results, caseId),
        baseline: byRepeat(input.baseline?.results ?? [], caseId),
      };
      for (const metric of metrics) {
        const entry: CaseMetric = {};
        const c = candidateMeans.get(metric)?.get(caseId);
        const b = baselineMeans.get(metric)?.get(caseId);
        if (c !== undefined) entry.candidate = c;
        if (b !== undefined) entry.baseline = b;
        if (c !== undefined && b !== undefined) {
          entry.diff = c - b;
          row.delta += entry.diff;
        }
        row.metrics[metric] = entry;
      }
      return row;
    })
    .sort((x, y) => x.delta - y.delta || x.caseId.localeCompare(y.caseId, 'en', { numeric: true }));
}

function byRepeat(results: readonly RunResult[], caseId: string): RunResult[] {
  return results.filter((r) => r.caseId === caseId).sort((a, b) => a.repeat - b.repeat);
}
