/**
 * In-memory TraceStore for tests and ephemeral runs. Bounded: beyond `maxTraces` the oldest traces
 * (by startedAt, then id) are evicted, so the newest are kept. Traces are copied through JSON on the
 * way in and out, exactly as the SQLite store stores them, so both round-trip the same values.
 */
import type { Trace } from '../telemetry/trace.ts';
import {
  afterCursor,
  bodyText,
  byName,
  countsAsAttempt,
  decodeCursor,
  encodeCursor,
  hasFinishedLatency,
  inWindow,
  isFallback,
  matchesFilters,
  newestFirst,
  PERCENTILES,
  pageLimit,
  percentile,
  type RowCounts,
  searchNeedle,
  statsRow,
  toSummary,
} from './common.ts';
import type { Stats, StatsRow, TracePage, TraceQuery, TraceStore } from './trace-store.ts';

interface Entry {
  startedAt: number;
  id: string;
  trace: Trace;
  /** Lowercased searchable body text, computed once on write. */
  text: string;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

class Group {
  requests = 0;
  ok = 0;
  errors = 0;
  fallbacks = 0;
  costUsd = 0;
  readonly durations: number[] = [];

  constructor(readonly name: string) {}

  row(): StatsRow {
    const sorted = this.durations.sort((a, b) => a - b);
    const [p50, p95, p99] = PERCENTILES.map((p) => percentile(sorted, p));
    const counts: RowCounts = {
      name: this.name,
      requests: this.requests,
      ok: this.ok,
      errors: this.errors,
      fallbacks: this.fallbacks,
      costUsd: this.costUsd,
      p50Ms: p50 ?? 0,
      p95Ms: p95 ?? 0,
      p99Ms: p99 ?? 0,
    };
    return statsRow(counts);
  }
}

function groupOf(map: Map<string, Group>, name: string): Group {
  let g = map.get(name);
  if (!g) {
    g = new Group(name);
    map.set(name, g);
  }
  return g;
}

export interface MemoryTraceStoreOptions {
  /** Default 10,000. */
  maxTraces?: number;
}

export class MemoryTraceStore implements TraceStore {
  readonly kind = 'memory';
  private readonly maxTraces: number;
  private readonly byId = new Map<string, Entry>();
  /** Newest first. */
  private order: Entry[] = [];
  private closed = false;

  constructor(options: MemoryTraceStoreOptions = {}) {
    this.maxTraces = Math.max(1, Math.floor(options.maxTraces ?? 10_000));
  }

  private open(): void {
    if (this.closed) throw new Error('trace store is closed');
  }

  async writeBatch(traces: Trace[]): Promise<void> {
    this.open();
    if (traces.length === 0) return;
    // Copy the whole batch first so a bad trace leaves the store untouched (all or nothing).
    const entries = traces.map((t): Entry => {
      const trace = copy(t);
      return { startedAt: trace.startedAt, id: trace.id, trace, text: bodyText(trace) };
    });
    for (const e of entries) this.byId.set(e.id, e);
    this.order = [...this.byId.values()].sort(newestFirst);
    while (this.order.length > this.maxTraces) {
      const oldest = this.order.pop();
      if (oldest) this.byId.delete(oldest.id);
    }
  }

  async get(id: string): Promise<Trace | undefined> {
    this.open();
    const e = this.byId.get(id);
    return e ? copy(e.trace) : undefined;
  }

  async list(query: TraceQuery): Promise<TracePage> {
    this.open();
    const limit = pageLimit(query.limit);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const needle = searchNeedle(query);
    const page: Entry[] = [];
    for (const e of this.order) {
      if (cursor && !afterCursor(e, cursor)) continue;
      if (!matchesFilters(e.trace, query)) continue;
      if (needle !== undefined && !e.text.includes(needle)) continue;
      page.push(e);
      if (page.length > limit) break;
    }
    const more = page.length > limit;
    if (more) page.pop();
    const out: TracePage = { traces: page.map((e) => copy(toSummary(e.trace))) };
    const last = page[page.length - 1];
    if (more && last) out.nextCursor = encodeCursor(last);
    return out;
  }

  async stats(since: number, until: number): Promise<Stats> {
    this.open();
    const total = new Group('all');
    const routes = new Map<string, Group>();
    const targets = new Map<string, Group>();
    for (const { trace } of this.order) {
      if (!inWindow(trace.startedAt, since, until)) continue;
      for (const g of [total, groupOf(routes, trace.route)]) {
        g.requests += 1;
        if (trace.outcome === 'ok') g.ok += 1;
        else g.errors += 1;
        if (isFallback(trace.decision)) g.fallbacks += 1;
        g.costUsd += trace.costUsd;
        g.durations.push(trace.durationMs);
      }
      for (const span of trace.spans) {
        if (!countsAsAttempt(span)) continue;
        const g = groupOf(targets, span.target);
        g.requests += 1;
        if (span.outcome === 'ok') g.ok += 1;
        if (span.outcome === 'error') g.errors += 1;
        if (isFallback(span.reason)) g.fallbacks += 1;
        g.costUsd += span.costUsd;
        if (hasFinishedLatency(span)) g.durations.push(span.latencyMs ?? 0);
      }
    }
    return {
      since,
      until,
      total: total.row(),
      routes: [...routes.values()].map((g) => g.row()).sort(byName),
      targets: [...targets.values()].map((g) => g.row()).sort(byName),
    };
  }

  async prune(options: { maxAgeMs: number; maxRows: number; now?: number }): Promise<number> {
    this.open();
    const cutoff = (options.now ?? Date.now()) - options.maxAgeMs;
    const maxRows = Math.max(0, Math.floor(options.maxRows));
    // Newest first, so the traces to keep are a prefix: young enough and within maxRows.
    let keep = 0;
    while (keep < this.order.length && keep < maxRows && (this.order[keep]?.startedAt ?? 0) >= cutoff) keep++;
    const gone = this.order.splice(keep);
    for (const e of gone) this.byId.delete(e.id);
    return gone.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.byId.clear();
    this.order = [];
  }
}
