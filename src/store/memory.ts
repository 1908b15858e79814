/**
 * In-memory TraceStore for tests and ephemeral runs. Bounded: beyond `maxTraces` the oldest traces
 * (by startedAt, then id) are evicted, so the newest are kept. Traces are copied through JSON on the
 * way in and out, exactly as the SQLite store stores them, so both round-trip the same values.
 */
import type { Trace } from '../telemetry/trace.ts';
import {
  afterCursor,
  bodyText,
  decodeCursor,
  encodeCursor,
  inWindow,
  matchesFilters,
  newestFirst,
  pageLimit,
  StatsBuilder,
  searchNeedle,
  toSummary,
} from './common.ts';
import type { Stats, TracePage, TraceQuery, TraceStore } from './trace-store.ts';

const addTrace = (stats: StatsBuilder, t: Trace) => {
  stats.addTrace(t.route, t.outcome, t.decision, t.costUsd, t.durationMs, t);
  if (t.feature === undefined || !Array.isArray(t.slots.evals)) return;
  for (const e of t.slots.evals) {
    stats.addScore(t.feature, t.slots.promptVersion ?? '-', e.name, e.value, e.label, t.startedAt);
  }
};

interface Entry {
  startedAt: number;
  id: string;
  trace: Trace;
  /** Lowercased searchable body text, computed once on write. */
  text: string;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

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
    const stats = new StatsBuilder();
    for (const { trace: t } of this.order) {
      if (inWindow(t.startedAt, since, until)) addTrace(stats, t);
      for (const s of t.spans) {
        if (inWindow(s.startedAt, since, until))
          stats.addSpan(s.target, s.outcome, s.reason, s.costUsd, s.latencyMs);
      }
    }
    return stats.build(since, until);
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
