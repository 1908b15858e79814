import type { Decision, Trace } from '../telemetry/trace.ts';

/** Filters for listing traces; every field optional. Times are epoch milliseconds. */
export interface TraceQuery {
  route?: string;
  target?: string;
  /** An HTTP status, or 'ok' / 'error' for the trace outcome. */
  status?: number | 'ok' | 'error';
  decision?: Decision;
  user?: string;
  session?: string;
  feature?: string;
  key?: string;
  since?: number;
  until?: number;
  /** Case-insensitive substring of the (already redacted) request or response body. */
  text?: string;
  /** Default 50, at most 500. */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export type TraceSummary = Omit<Trace, 'spans' | 'request' | 'response' | 'slots' | 'decisionPath'>;

export interface TracePage {
  traces: TraceSummary[];
  nextCursor?: string;
}

export interface StatsRow {
  /** The route or target name; "all" for the total. */
  name: string;
  requests: number;
  ok: number;
  errors: number;
  successRate: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Share of requests answered by a fallback or hedge (routes), or of attempts that were fallbacks (targets). */
  fallbackRate: number;
  costUsd: number;
}

export interface Stats {
  since: number;
  until: number;
  total: StatsRow;
  routes: StatsRow[];
  targets: StatsRow[];
  /** Per caller: the 50 costliest keys, users and features in the window (requests without one are left out). */
  keys: StatsRow[];
  users: StatsRow[];
  features: StatsRow[];
  /** Online evaluation scores per feature, prompt version and metric, oldest version first. */
  scores: ScoreRow[];
}

/** The mean of one online evaluation metric over one feature's prompt version, in the window. */
export interface ScoreRow {
  feature: string;
  promptVersion: string;
  metric: string;
  /** Calls scored (errors not included). */
  scored: number;
  /** Scorer errors: counted, never averaged in as 0. */
  errors: number;
  mean: number | null;
  /** Share of scored calls labelled pass, when the scorer labels. */
  passRate: number | null;
  firstAt: number;
  lastAt: number;
}

/**
 * Where traces live. SQLite (embedded default), memory (tests, ephemeral) and later Postgres all pass
 * the same contract suite (test/store/contract.ts).
 */
export interface TraceStore {
  readonly kind: string;
  /** Write traces that are already redacted, in one transaction. */
  writeBatch(traces: Trace[]): Promise<void>;
  get(id: string): Promise<Trace | undefined>;
  list(query: TraceQuery): Promise<TracePage>;
  stats(since: number, until: number): Promise<Stats>;
  /** Delete traces older than maxAgeMs and beyond the newest maxRows; returns how many went. */
  prune(options: { maxAgeMs: number; maxRows: number; now?: number }): Promise<number>;
  close(): Promise<void>;
}
