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
type ScoreRow = [
  feature: string,
  promptVersion: string | null,
  metric: string,
  value: number | null,
  label: string | null,
  startedAt: number,
];
type SpanRow = [target: string, outcome: string, reason: string, costUsd: number, latencyMs: number | null];

export class StatsQueries {
  private readonly traces: Database.Statement<[number, number], TraceRow>;
  private readonly spans: Database.Statement<[number, number], SpanRow>;
  private readonly scores: Database.Statement<[number, number], ScoreRow>;

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
    // Online evaluation scores sit in the trace document (slots.evals): only feature calls are read.
    this.scores = db
      .prepare<[number, number], ScoreRow>(
        `SELECT t.feature, json_extract(t.doc, '$.slots.promptVersion'), json_extract(e.value, '$.name'),
                json_extract(e.value, '$.value'), json_extract(e.value, '$.label'), t.started_at
         FROM traces AS t INDEXED BY traces_started, json_each(t.doc, '$.slots.evals') AS e
         WHERE t.started_at >= ? AND t.started_at < ? AND t.feature IS NOT NULL`,
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
    for (const [feature, version, metric, value, label, at] of this.scores.iterate(since, until)) {
      stats.addScore(feature, version ?? '-', metric, value ?? undefined, label ?? undefined, at);
    }
    return stats.build(since, until);
  }
}
