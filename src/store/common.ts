/**
 * Pieces every TraceStore shares so they agree to the byte: page size, cursor format, the summary
 * shape, what "body text" means for search, and how a stats row is computed from its counts.
 */
import type { Span, Trace } from '../telemetry/trace.ts';
import type { StatsRow, TraceQuery, TraceSummary } from './trace-store.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Position after which the next page starts: pages run newest first by (startedAt, id). */
export interface CursorKey {
  startedAt: number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.startedAt, key.id]), 'utf8').toString('base64url');
}

/** Throws a RangeError for anything that is not a cursor this module made. */
export function decodeCursor(cursor: string): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new RangeError('invalid cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new RangeError('invalid cursor');
  }
  return { startedAt: parsed[0], id: parsed[1] };
}

/** Newest first: by startedAt descending, then id descending. */
export function newestFirst(a: CursorKey, b: CursorKey): number {
  if (a.startedAt !== b.startedAt) return b.startedAt - a.startedAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** True when `key` comes strictly after the cursor in newest-first order. */
export function afterCursor(key: CursorKey, cursor: CursorKey): boolean {
  return key.startedAt < cursor.startedAt || (key.startedAt === cursor.startedAt && key.id < cursor.id);
}

const SUMMARY_OMITS = new Set(['spans', 'request', 'response', 'slots', 'decisionPath']);

export function toSummary(trace: Trace): TraceSummary {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(trace)) {
    if (!SUMMARY_OMITS.has(k) && v !== undefined) out[k] = v;
  }
  return out as unknown as TraceSummary;
}

/**
 * The searchable text of a trace: every string (and number) inside the request and response bodies,
 * one per line, lowercased. Keys are not included. Search is a plain substring match on this text.
 */
export function bodyText(trace: Pick<Trace, 'request' | 'response'>): string {
  const parts: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64) return;
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean') parts.push(String(v));
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(trace.request, 0);
  walk(trace.response, 0);
  return parts.join('\n').toLowerCase();
}

export function searchNeedle(query: TraceQuery): string | undefined {
  return query.text === undefined || query.text === '' ? undefined : query.text.toLowerCase();
}

/** Whether a trace passes every filter of a query except text, cursor and limit. */
export function matchesFilters(trace: Trace, query: TraceQuery): boolean {
  if (query.route !== undefined && trace.route !== query.route) return false;
  if (query.target !== undefined && trace.target !== query.target) return false;
  if (query.status !== undefined) {
    if (typeof query.status === 'number' ? trace.status !== query.status : trace.outcome !== query.status)
      return false;
  }
  if (query.decision !== undefined && trace.decision !== query.decision) return false;
  if (query.user !== undefined && trace.user !== query.user) return false;
  if (query.session !== undefined && trace.session !== query.session) return false;
  if (query.feature !== undefined && trace.feature !== query.feature) return false;
  if (query.key !== undefined && trace.key !== query.key) return false;
  return inWindow(trace.startedAt, query.since, query.until);
}

/** Nearest-rank percentile: the value at 1-based rank ceil(p/100 * n). Same rank rule as the SQL. */
export function percentileRank(p: number, n: number): number {
  return Math.max(1, Math.ceil((p * n) / 100));
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[percentileRank(p, sorted.length) - 1] ?? 0;
}

export const PERCENTILES = [50, 95, 99] as const;

export interface RowCounts {
  name: string;
  requests: number;
  ok: number;
  errors: number;
  fallbacks: number;
  costUsd: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export function statsRow(c: RowCounts): StatsRow {
  const rate = (x: number) => (c.requests === 0 ? 0 : x / c.requests);
  return {
    name: c.name,
    requests: c.requests,
    ok: c.ok,
    errors: c.errors,
    successRate: rate(c.ok),
    errorRate: rate(c.errors),
    p50Ms: c.p50Ms,
    p95Ms: c.p95Ms,
    p99Ms: c.p99Ms,
    fallbackRate: rate(c.fallbacks),
    costUsd: c.costUsd,
  };
}

export function isFallback(reasonOrDecision: string): boolean {
  return reasonOrDecision === 'fallback' || reasonOrDecision === 'hedge';
}

/**
 * Target stats count attempts that were sent (every span but 'skipped' ones: the breaker was open, no
 * call was made). Latency percentiles use finished attempts only (ok or error, with a latency):
 * a cancelled hedge loser's latency says when it was stopped, not how fast the target is.
 */
export function countsAsAttempt(span: Pick<Span, 'outcome'>): boolean {
  return span.outcome !== 'skipped';
}

export function hasFinishedLatency(span: Pick<Span, 'outcome' | 'latencyMs'>): boolean {
  return (span.outcome === 'ok' || span.outcome === 'error') && span.latencyMs !== undefined;
}

export const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Stats windows and `since`/`until` filters are half-open: since <= startedAt < until. */
export function inWindow(startedAt: number, since: number | undefined, until: number | undefined): boolean {
  return (since === undefined || startedAt >= since) && (until === undefined || startedAt < until);
}
