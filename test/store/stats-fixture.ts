/**
 * A hand-made set of traces for the stats contract, with every expected figure worked out by hand
 * (nearest-rank percentiles: the value at rank ceil(p/100 * n) of the sorted durations).
 */
import type { StatsRow } from '../../src/store/trace-store.ts';
import type { Span, Trace } from '../../src/telemetry/trace.ts';
import { span, trace } from './fixtures.ts';

const OPENAI = 'openai/gpt-4o';
const CLAUDE = 'anthropic/claude';
const LLAMA = 'local/llama';
const LATE = 'late/model';

export function statsFixture() {
  const since = 10_000;
  const until = 20_000;
  const traces: Trace[] = [];

  // Route "chat": ten traces lasting 10, 20, … 100 ms.
  for (let i = 1; i <= 10; i++) {
    const startedAt = since + i;
    const at = { startedAt };
    let spans: Span[];
    let decision: Trace['decision'] = 'primary';
    let outcome: Trace['outcome'] = 'ok';
    if (i <= 2) {
      decision = 'fallback';
      spans = [
        span({ ...at, target: OPENAI, outcome: 'error', latencyMs: 5, costUsd: 0 }),
        span({ ...at, target: CLAUDE, reason: 'fallback', latencyMs: 7, costUsd: 0.25 }),
      ];
    } else if (i === 3) {
      decision = 'hedge';
      spans = [
        span({ ...at, target: OPENAI, outcome: 'cancelled', latencyMs: 50, costUsd: 0 }),
        span({ ...at, target: CLAUDE, reason: 'hedge', latencyMs: 20, costUsd: 0.25 }),
      ];
    } else if (i <= 8) {
      spans = [span({ ...at, target: OPENAI, latencyMs: i * 10, costUsd: 0.25 })];
    } else {
      decision = 'error';
      outcome = 'error';
      spans = [
        span({ ...at, target: OPENAI, outcome: 'error', latencyMs: i * 10, costUsd: 0 }),
        // Breaker open: never sent, so it counts nowhere.
        span({ ...at, target: CLAUDE, reason: 'fallback', outcome: 'skipped', costUsd: 0 }),
      ];
      delete spans[1]!.latencyMs;
    }
    const t = trace({
      startedAt,
      durationMs: i * 10,
      route: 'chat',
      decision,
      outcome,
      status: outcome === 'ok' ? 200 : 502,
      spans,
      costUsd: spans.reduce((n, s) => n + s.costUsd, 0),
    });
    traces.push(t);
  }

  // Route "support": four traces lasting 5, 1, 3, 2 ms; only the first succeeds.
  [5, 1, 3, 2].forEach((d, i) => {
    const ok = i === 0;
    traces.push(
      trace({
        startedAt: since + 100 + i,
        durationMs: d,
        route: 'support',
        target: LLAMA,
        decision: ok ? 'primary' : 'error',
        outcome: ok ? 'ok' : 'error',
        status: ok ? 200 : 503,
        costUsd: ok ? 0.5 : 0,
        spans: [
          span({
            startedAt: since + 100 + i,
            target: LLAMA,
            provider: 'local',
            outcome: ok ? 'ok' : 'error',
            latencyMs: d,
            costUsd: ok ? 0.5 : 0,
          }),
        ],
      }),
    );
  });

  // Outside the half-open window [since, until): must not count anywhere.
  for (const startedAt of [since - 1, until]) {
    traces.push(
      trace({
        startedAt,
        durationMs: 9_999,
        route: 'chat',
        decision: 'fallback',
        costUsd: 1,
        spans: [span({ startedAt, target: 'outside/model', latencyMs: 9_999, costUsd: 1 })],
      }),
    );
  }

  // Targets count attempts by when the attempt started: a trace from before the window whose retry
  // started inside it adds that retry; an attempt starting at `until` does not count.
  traces.push(
    trace({
      startedAt: since - 5,
      durationMs: 9_999,
      route: 'chat',
      spans: [
        span({ startedAt: since - 5, target: 'outside/model', outcome: 'error', latencyMs: 5 }),
        span({
          startedAt: since + 1,
          target: LATE,
          reason: 'retry',
          retry: 1,
          latencyMs: 33,
          costUsd: 0.125,
        }),
      ],
    }),
  );
  traces
    .find((t) => t.route === 'support')
    ?.spans.push(span({ startedAt: until, target: 'outside/model', reason: 'retry' }));

  const row = (r: StatsRow) => r;
  const expected = {
    total: row({
      name: 'all',
      requests: 14,
      ok: 9,
      errors: 5,
      successRate: 9 / 14,
      errorRate: 5 / 14,
      // sorted: 1 2 3 5 10 20 30 40 50 60 70 80 90 100 → ranks 7, 14, 14
      p50Ms: 30,
      p95Ms: 100,
      p99Ms: 100,
      fallbackRate: 3 / 14,
      costUsd: 2.5,
    }),
    routes: [
      row({
        name: 'chat',
        requests: 10,
        ok: 8,
        errors: 2,
        successRate: 0.8,
        errorRate: 0.2,
        p50Ms: 50,
        p95Ms: 100,
        p99Ms: 100,
        fallbackRate: 0.3,
        costUsd: 2,
      }),
      row({
        name: 'support',
        requests: 4,
        ok: 1,
        errors: 3,
        successRate: 0.25,
        errorRate: 0.75,
        // sorted: 1 2 3 5 → ranks 2, 4, 4
        p50Ms: 2,
        p95Ms: 5,
        p99Ms: 5,
        fallbackRate: 0,
        costUsd: 0.5,
      }),
    ],
    targets: [
      row({
        name: CLAUDE,
        requests: 3,
        ok: 3,
        errors: 0,
        successRate: 1,
        errorRate: 0,
        // sorted: 7 7 20 → ranks 2, 3, 3
        p50Ms: 7,
        p95Ms: 20,
        p99Ms: 20,
        fallbackRate: 1,
        costUsd: 0.75,
      }),
      row({
        name: LATE,
        requests: 1,
        ok: 1,
        errors: 0,
        successRate: 1,
        errorRate: 0,
        p50Ms: 33,
        p95Ms: 33,
        p99Ms: 33,
        fallbackRate: 0,
        costUsd: 0.125,
      }),
      row({
        name: LLAMA,
        requests: 4,
        ok: 1,
        errors: 3,
        successRate: 0.25,
        errorRate: 0.75,
        p50Ms: 2,
        p95Ms: 5,
        p99Ms: 5,
        fallbackRate: 0,
        costUsd: 0.5,
      }),
      row({
        name: OPENAI,
        // 2 errors (fallback traces), 1 cancelled (hedge loser), 5 ok, 2 errors (failed traces)
        requests: 10,
        ok: 5,
        errors: 4,
        successRate: 0.5,
        errorRate: 0.4,
        // finished attempts only, sorted: 5 5 40 50 60 70 80 90 100 → ranks 5, 9, 9
        p50Ms: 60,
        p95Ms: 100,
        p99Ms: 100,
        fallbackRate: 0,
        costUsd: 1.25,
      }),
    ],
  };
  return { traces, since, until, expected };
}
