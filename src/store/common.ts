import { KeelError } from '../core/errors.ts';
/**
 * Pieces every TraceStore shares so they agree to the byte: page size, cursor format, the summary
 * shape, what "body text" means for search, and how stats figures are computed.
 */
import type { Trace } from '../telemetry/trace.ts';
import type { ScoreRow, Stats, StatsRow, TraceQuery, TraceSummary } from './trace-store.ts';

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

/** Throws a 400 for anything that is not a cursor this module made. */
export function decodeCursor(cursor: string): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new KeelError('KEEL_INVALID_REQUEST', 'cursor: not a cursor from a previous page', {
      param: 'cursor',
    });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new KeelError('KEEL_INVALID_REQUEST', 'cursor: not a cursor from a previous page', {
      param: 'cursor',
    });
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

/** Nearest-rank percentile: the value at 1-based rank ceil(p/100 * n) of the sorted values; 0 when none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1] ?? 0;
}

export const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Stats windows and `since`/`until` filters are half-open: since <= startedAt < until. */
export function inWindow(startedAt: number, since: number | undefined, until: number | undefined): boolean {
  return (since === undefined || startedAt >= since) && (until === undefined || startedAt < until);
}

const isFallback = (reasonOrDecision: string) =>
  reasonOrDecision === 'fallback' || reasonOrDecision === 'hedge';

class Group {
  requests = 0;
  ok = 0;
  errors = 0;
  fallbacks = 0;
  costUsd = 0;
  readonly latencies: number[] = [];

  constructor(readonly name: string) {}

  add(outcome: string, fallback: boolean, costUsd: number, latency: number | undefined): void {
    this.requests += 1;
    if (outcome === 'ok') this.ok += 1;
    else if (outcome === 'error') this.errors += 1;
    if (fallback) this.fallbacks += 1;
    this.costUsd += costUsd;
    if (latency !== undefined) this.latencies.push(latency);
  }

  row(): StatsRow {
    const sorted = Float64Array.from(this.latencies).sort();
    const rate = (x: number) => (this.requests === 0 ? 0 : x / this.requests);
    return {
      name: this.name,
      requests: this.requests,
      ok: this.ok,
      errors: this.errors,
      successRate: rate(this.ok),
      errorRate: rate(this.errors),
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      fallbackRate: rate(this.fallbacks),
      costUsd: this.costUsd,
    };
  }
}

/** The 50 costliest callers, then by name: a bounded answer however many users there are. */
function costliest(map: Map<string, Group>): StatsRow[] {
  return [...map.values()]
    .map((g) => g.row())
    .sort((a, b) => b.costUsd - a.costUsd || a.name.localeCompare(b.name))
    .slice(0, 50);
}

function groupOf(map: Map<string, Group>, name: string): Group {
  let g = map.get(name);
  if (!g) {
    g = new Group(name);
    map.set(name, g);
  }
  return g;
}

/**
 * The one place stats figures are computed, so every store agrees exactly. Stores feed it the
 * traces that started in the window and the attempts (spans) that started in the window.
 *
 * Routes and the total: every trace counts; ok/errors by its outcome; percentiles over durationMs;
 * fallbackRate = share decided by 'fallback' or 'hedge'.
 * Targets: attempts that were sent (a 'skipped' span — breaker open — was never sent and does not
 * count); ok/errors by the attempt's outcome ('cancelled' counts as neither); percentiles over the
 * latency of finished attempts only (ok or error), since a cancelled hedge loser's latency says when
 * it was stopped, not how fast the target is; fallbackRate = share of attempts made as a fallback or
 * a hedge.
 */
export class StatsBuilder {
  private readonly total = new Group('all');
  private readonly routes = new Map<string, Group>();
  private readonly targets = new Map<string, Group>();
  private readonly callers = {
    keys: new Map<string, Group>(),
    users: new Map<string, Group>(),
    features: new Map<string, Group>(),
  };
  private readonly scores = new Map<
    string,
    Omit<ScoreRow, 'mean' | 'passRate'> & { sum: number; passes: number; labelled: number }
  >();

  addTrace(
    route: string,
    outcome: string,
    decision: string,
    costUsd: number,
    durationMs: number,
    caller: {
      key?: string | null | undefined;
      user?: string | null | undefined;
      feature?: string | null | undefined;
    } = {},
  ): void {
    const fallback = isFallback(decision);
    this.total.add(outcome, fallback, costUsd, durationMs);
    groupOf(this.routes, route).add(outcome, fallback, costUsd, durationMs);
    if (caller.key) groupOf(this.callers.keys, caller.key).add(outcome, fallback, costUsd, durationMs);
    if (caller.user) groupOf(this.callers.users, caller.user).add(outcome, fallback, costUsd, durationMs);
    if (caller.feature)
      groupOf(this.callers.features, caller.feature).add(outcome, fallback, costUsd, durationMs);
  }

  /** One online evaluation result of a feature call (`value` undefined: the scorer failed). */
  addScore(
    feature: string,
    promptVersion: string,
    metric: string,
    value: number | undefined,
    label: string | undefined,
    at: number,
  ): void {
    const key = `${feature}\u0000${promptVersion}\u0000${metric}`;
    let row = this.scores.get(key);
    if (!row) {
      row = {
        feature,
        promptVersion,
        metric,
        scored: 0,
        errors: 0,
        sum: 0,
        passes: 0,
        labelled: 0,
        firstAt: at,
        lastAt: at,
      };
      this.scores.set(key, row);
    }
    row.firstAt = Math.min(row.firstAt, at);
    row.lastAt = Math.max(row.lastAt, at);
    if (value === undefined || !Number.isFinite(value)) {
      row.errors++;
      return;
    }
    row.scored++;
    row.sum += value;
    if (label !== undefined) {
      row.labelled++;
      if (label === 'pass') row.passes++;
    }
  }

  addSpan(
    target: string,
    outcome: string,
    reason: string,
    costUsd: number,
    latencyMs: number | null | undefined,
  ) {
    if (outcome === 'skipped') return;
    const finished =
      (outcome === 'ok' || outcome === 'error') && latencyMs !== undefined && latencyMs !== null;
    groupOf(this.targets, target).add(outcome, isFallback(reason), costUsd, finished ? latencyMs : undefined);
  }

  build(since: number, until: number): Stats {
    return {
      since,
      until,
      total: this.total.row(),
      routes: [...this.routes.values()].map((g) => g.row()).sort(byName),
      targets: [...this.targets.values()].map((g) => g.row()).sort(byName),
      keys: costliest(this.callers.keys),
      users: costliest(this.callers.users),
      features: costliest(this.callers.features),
      scores: [...this.scores.values()]
        .sort(
          (a, b) =>
            a.feature.localeCompare(b.feature) || a.firstAt - b.firstAt || a.metric.localeCompare(b.metric),
        )
        .map(({ sum, passes, labelled, ...row }) => ({
          ...row,
          mean: row.scored > 0 ? sum / row.scored : null,
          passRate: labelled > 0 ? passes / labelled : null,
        })),
    };
  }
}
