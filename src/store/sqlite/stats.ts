/**
 * Stats for the SQLite store: one pass over the traces that started in the window and one over the
 * attempts (spans) that started in it, each found through its started_at index (see migrations.ts), fed to
 * the StatsBuilder every store shares, which counts and sorts the durations for exact nearest-rank
 * percentiles in JS.
 */
import type Database from 'better-sqlite3';
import { StatsBuilder } from '../common.ts';
import type { Stats } from '../trace-store.ts';

type TraceRow = [
  route: string,
  outcome: string,
  decision: string,
  costUsd: number,
  durationMs: number,
  key: string | null,
  user: string | null,
  feature: string | null,
];
type SpanRow = [target: string, outcome: string, reason: string, costUsd: number, latencyMs: number | null];

export class StatsQueries {
  private readonly traces: Database.Statement<[number, number], TraceRow>;
  private readonly spans: Database.Statement<[number, number], SpanRow>;

  constructor(db: Database.Database) {
    this.traces = db
      .prepare<[number, number], TraceRow>(
        `SELECT route, outcome, decision, cost_usd, duration_ms, "key", "user", feature FROM traces INDEXED BY traces_started
         WHERE started_at >= ? AND started_at < ?`,
      )
      .raw(true);
    this.spans = db
      .prepare<[number, number], SpanRow>(
        `SELECT target, outcome, reason, cost_usd, latency_ms FROM spans INDEXED BY spans_started
         WHERE started_at >= ? AND started_at < ?`,
      )
      .raw(true);
  }

  run(since: number, until: number): Stats {
    const stats = new StatsBuilder();
    for (const [route, outcome, decision, cost, duration, key, user, feature] of this.traces.iterate(
      since,
      until,
    )) {
      stats.addTrace(route, outcome, decision, cost, duration, { key, user, feature });
    }
    for (const [target, outcome, reason, cost, latency] of this.spans.iterate(since, until)) {
      stats.addSpan(target, outcome, reason, cost, latency);
    }
    return stats.build(since, until);
  }
}
