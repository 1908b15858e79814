/**
 * Stats queries for the SQLite store. Counts and sums are SQL aggregates; percentiles are picked in
 * SQL with window functions (nearest rank: the row at rank ceil(p*n/100) of each group, ordered by
 * duration), so only three rows per group come back to JS. Rates are derived in JS from the integer
 * counts (common.ts#statsRow), exactly as the memory store derives them.
 */
import type Database from 'better-sqlite3';
import { byName, PERCENTILES, percentileRank, statsRow } from '../common.ts';
import type { Stats, StatsRow } from '../trace-store.ts';

interface AggRow {
  name: string;
  requests: number;
  ok: number | null;
  errors: number | null;
  fallbacks: number | null;
  cost: number;
}

interface RankRow {
  name: string;
  n: number;
  rn: number;
  v: number;
}

interface Source {
  /** FROM … WHERE … with two parameters: since, until. */
  from: string;
  /** Expression naming the group, or a literal for the total. */
  group: string;
  outcome: string;
  fallback: string;
  cost: string;
  /** Extra condition and value for the percentile rows. */
  latencyWhere: string;
  latency: string;
}

const TRACES = "FROM traces WHERE started_at >= ? AND started_at < ?";
const SPANS =
  "FROM spans s JOIN traces t ON t.id = s.trace_id WHERE t.started_at >= ? AND t.started_at < ? AND s.outcome <> 'skipped'";

const sources = {
  total: {
    from: TRACES,
    group: "'all'",
    outcome: 'outcome',
    fallback: "decision IN ('fallback', 'hedge')",
    cost: 'cost_usd',
    latencyWhere: '1',
    latency: 'duration_ms',
  },
  routes: {
    from: TRACES,
    group: 'route',
    outcome: 'outcome',
    fallback: "decision IN ('fallback', 'hedge')",
    cost: 'cost_usd',
    latencyWhere: '1',
    latency: 'duration_ms',
  },
  targets: {
    from: SPANS,
    group: 's.target',
    outcome: 's.outcome',
    fallback: "s.reason IN ('fallback', 'hedge')",
    cost: 's.cost_usd',
    // Finished attempts only: a cancelled hedge loser's latency is when it was stopped.
    latencyWhere: "s.outcome IN ('ok', 'error') AND s.latency_ms IS NOT NULL",
    latency: 's.latency_ms',
  },
} satisfies Record<string, Source>;

/** `ceil(p * n / 100)` in integer SQL arithmetic; at least 1 whenever n >= 1. */
const rankSql = (p: number) => `(${p} * n + 99) / 100`;

export class StatsQueries {
  private readonly agg: Record<keyof typeof sources, Database.Statement<[number, number], AggRow>>;
  private readonly ranks: Record<keyof typeof sources, Database.Statement<[number, number], RankRow>>;

  constructor(db: Database.Database) {
    const agg = (s: Source) =>
      db.prepare<[number, number], AggRow>(
        `SELECT ${s.group} AS name, COUNT(*) AS requests,
           SUM(${s.outcome} = 'ok') AS ok, SUM(${s.outcome} = 'error') AS errors,
           SUM(${s.fallback}) AS fallbacks, TOTAL(${s.cost}) AS cost
         ${s.from} GROUP BY 1`,
      );
    const ranks = (s: Source) =>
      db.prepare<[number, number], RankRow>(
        `SELECT name, n, rn, v FROM (
           SELECT ${s.group} AS name, ${s.latency} AS v,
             ROW_NUMBER() OVER (PARTITION BY ${s.group} ORDER BY ${s.latency}) AS rn,
             COUNT(*) OVER (PARTITION BY ${s.group}) AS n
           ${s.from} AND ${s.latencyWhere}
         ) WHERE rn IN (${PERCENTILES.map(rankSql).join(', ')})`,
      );
    this.agg = { total: agg(sources.total), routes: agg(sources.routes), targets: agg(sources.targets) };
    this.ranks = {
      total: ranks(sources.total),
      routes: ranks(sources.routes),
      targets: ranks(sources.targets),
    };
  }

  private rows(which: keyof typeof sources, since: number, until: number): StatsRow[] {
    const byRank = new Map<string, { n: number; at: Map<number, number> }>();
    for (const r of this.ranks[which].all(since, until)) {
      let g = byRank.get(r.name);
      if (!g) {
        g = { n: r.n, at: new Map() };
        byRank.set(r.name, g);
      }
      g.at.set(r.rn, r.v);
    }
    const pick = (name: string, p: number): number => {
      const g = byRank.get(name);
      return g ? (g.at.get(percentileRank(p, g.n)) ?? 0) : 0;
    };
    return this.agg[which].all(since, until).map((a) =>
      statsRow({
        name: a.name,
        requests: a.requests,
        ok: a.ok ?? 0,
        errors: a.errors ?? 0,
        fallbacks: a.fallbacks ?? 0,
        costUsd: a.cost,
        p50Ms: pick(a.name, 50),
        p95Ms: pick(a.name, 95),
        p99Ms: pick(a.name, 99),
      }),
    );
  }

  run(since: number, until: number): Stats {
    const total = this.rows('total', since, until)[0] ?? statsRow(emptyCounts('all'));
    return {
      since,
      until,
      total,
      routes: this.rows('routes', since, until).sort(byName),
      targets: this.rows('targets', since, until).sort(byName),
    };
  }
}

function emptyCounts(name: string) {
  return { name, requests: 0, ok: 0, errors: 0, fallbacks: 0, costUsd: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 };
}
