import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { Span, Trace } from '../../src/telemetry/trace.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
}

/** Parses the Prometheus text exposition format (what `render` returns) into samples and types. */
function parse(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** The samples of one metric, keyed by their label set (sorted, so the key is exact). */
function series(exp: Exposition, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of exp.samples) {
    if (s.name !== name) continue;
    const key = Object.entries(s.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    assert.ok(!out.has(key), `duplicate series ${name}{${key}}`);
    out.set(key, s.value);
  }
  return out;
}

const key = (labels: Record<string, string>) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

function value(exp: Exposition, name: string, labels: Record<string, string>): number | undefined {
  return series(exp, name).get(key(labels));
}

function span(over: Partial<Span> & Pick<Span, 'target'>): Span {
  return {
    provider: 'sim',
    reason: 'primary',
    retry: 0,
    outcome: 'ok',
    startedAt: 1_700_000_000_000,
    latencyMs: 100,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    estimated: false,
    costUsd: 0,
    ...over,
  };
}

function trace(over: Partial<Trace> & Pick<Trace, 'id' | 'spans'>): Trace {
  return {
    startedAt: 1_700_000_000_000,
    endedAt: 1_700_000_000_500,
    durationMs: 500,
    endpoint: 'chat',
    stream: false,
    route: 'chat',
    status: 200,
    outcome: 'ok',
    decision: 'primary',
    decisionPath: [],
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    estimated: false,
    costUsd: 0,
    slots: {},
    ...over,
  };
}

/** A fallback: primary failed with a 5xx, the backup answered. */
const fallback = trace({
  id: 'req_fallback',
  durationMs: 1500,
  decision: 'fallback',
  target: 'backup',
  tokensIn: 10,
  tokensOut: 20,
  costUsd: 0.002,
  spans: [
    span({ target: 'primary', outcome: 'error', latencyMs: 300, errorCode: 'KEEL_UPSTREAM_ERROR' }),
    span({
      target: 'backup',
      reason: 'fallback',
      latencyMs: 1100,
      tokensIn: 10,
      tokensOut: 20,
      costUsd: 0.002,
    }),
  ],
});

/** A retry: primary timed out, then answered on the retry. */
const retried = trace({
  id: 'req_retry',
  durationMs: 2500,
  decision: 'retry',
  target: 'primary',
  tokensIn: 5,
  tokensOut: 7,
  tokensCached: 3,
  costUsd: 0.001,
  spans: [
    span({ target: 'primary', outcome: 'error', latencyMs: 2000, errorCode: 'KEEL_PROVIDER_TIMEOUT' }),
    span({
      target: 'primary',
      reason: 'retry',
      retry: 1,
      latencyMs: 400,
      tokensIn: 5,
      tokensOut: 7,
      tokensCached: 3,
      costUsd: 0.001,
    }),
  ],
});

/** An error: the only target's breaker was open (skipped), so every target failed. */
const failed = trace({
  id: 'req_error',
  durationMs: 3,
  status: 503,
  outcome: 'error',
  errorCode: 'KEEL_ALL_TARGETS_FAILED',
  decision: 'error',
  spans: [span({ target: 'primary', outcome: 'skipped', latencyMs: 0, errorCode: 'KEEL_UPSTREAM_ERROR' })],
});

/** A stream: answered by the primary, time to first token 80 ms. */
const streamed = trace({
  id: 'req_stream',
  durationMs: 900,
  stream: true,
  ttftMs: 80,
  target: 'primary',
  tokensIn: 4,
  tokensOut: 40,
  costUsd: 0.0005,
  spans: [
    span({ target: 'primary', latencyMs: 880, ttftMs: 80, tokensIn: 4, tokensOut: 40, costUsd: 0.0005 }),
  ],
});

function observed(): Metrics {
  const metrics = new Metrics({ names: { routes: ['chat'], targets: ['primary', 'backup'] } });
  for (const t of [fallback, retried, failed, streamed]) metrics.observe(t);
  return metrics;
}

describe('Metrics', () => {
  it('counts requests by route, answering target, status and decision', async () => {
    const exp = parse(await observed().render());
    assert.equal(exp.types.get('keel_requests_total'), 'counter');
    assert.deepEqual(
      series(exp, 'keel_requests_total'),
      new Map([
        [key({ route: 'chat', target: 'backup', status: '200', decision: 'fallback' }), 1],
        [key({ route: 'chat', target: 'primary', status: '200', decision: 'retry' }), 1],
        [key({ route: 'chat', target: 'none', status: '503', decision: 'error' }), 1],
        [key({ route: 'chat', target: 'primary', status: '200', decision: 'primary' }), 1],
      ]),
    );
  });

  it('observes request duration, upstream duration per attempt (skipped attempts left out) and ttft', async () => {
    const exp = parse(await observed().render());
    assert.equal(exp.types.get('keel_request_duration_seconds'), 'histogram');
    assert.equal(value(exp, 'keel_request_duration_seconds_count', { route: 'chat' }), 4);
    assert.ok(Math.abs(value(exp, 'keel_request_duration_seconds_sum', { route: 'chat' })! - 4.903) < 1e-9);
    assert.equal(value(exp, 'keel_request_duration_seconds_bucket', { route: 'chat', le: '0.005' }), 1);
    assert.equal(value(exp, 'keel_request_duration_seconds_bucket', { route: 'chat', le: '1' }), 2);
    assert.equal(value(exp, 'keel_request_duration_seconds_bucket', { route: 'chat', le: '2.5' }), 4);
    assert.equal(value(exp, 'keel_request_duration_seconds_bucket', { route: 'chat', le: '+Inf' }), 4);

    const counts = new Map([...series(exp, 'keel_upstream_duration_seconds_count')].filter(([, v]) => v > 0));
    assert.deepEqual(
      counts,
      new Map([
        [key({ target: 'primary', outcome: 'error' }), 2],
        [key({ target: 'backup', outcome: 'ok' }), 1],
        [key({ target: 'primary', outcome: 'ok' }), 2],
      ]),
    );
    assert.ok(
      Math.abs(
        value(exp, 'keel_upstream_duration_seconds_sum', { target: 'primary', outcome: 'error' })! - 2.3,
      ) < 1e-9,
    );

    assert.deepEqual(
      series(exp, 'keel_ttft_seconds_count'),
      new Map([[key({ route: 'chat', target: 'primary' }), 1]]),
    );
    assert.equal(value(exp, 'keel_ttft_seconds_sum', { route: 'chat', target: 'primary' }), 0.08);
    assert.equal(value(exp, 'keel_ttft_seconds_bucket', { route: 'chat', target: 'primary', le: '0.05' }), 0);
    assert.equal(value(exp, 'keel_ttft_seconds_bucket', { route: 'chat', target: 'primary', le: '0.1' }), 1);
  });

  it('counts tokens, cost, retries, fallbacks and attempt errors', async () => {
    const exp = parse(await observed().render());
    assert.deepEqual(
      series(exp, 'keel_tokens_total'),
      new Map([
        [key({ route: 'chat', target: 'backup', direction: 'in' }), 10],
        [key({ route: 'chat', target: 'backup', direction: 'out' }), 20],
        [key({ route: 'chat', target: 'primary', direction: 'in' }), 9],
        [key({ route: 'chat', target: 'primary', direction: 'out' }), 47],
        [key({ route: 'chat', target: 'primary', direction: 'cached' }), 3],
      ]),
    );
    const cost = series(exp, 'keel_cost_usd_total');
    assert.equal(cost.size, 2);
    assert.ok(Math.abs(cost.get(key({ route: 'chat', target: 'backup' }))! - 0.002) < 1e-12);
    assert.ok(Math.abs(cost.get(key({ route: 'chat', target: 'primary' }))! - 0.0015) < 1e-12);
    assert.deepEqual(
      series(exp, 'keel_retries_total'),
      new Map([[key({ route: 'chat', target: 'primary' }), 1]]),
    );
    assert.deepEqual(series(exp, 'keel_fallbacks_total'), new Map([[key({ route: 'chat' }), 1]]));
    assert.deepEqual(
      series(exp, 'keel_attempt_errors_total'),
      new Map([
        [key({ target: 'primary', code: 'KEEL_UPSTREAM_ERROR' }), 1],
        [key({ target: 'primary', code: 'KEEL_PROVIDER_TIMEOUT' }), 1],
      ]),
      'the skipped attempt is not an attempt error',
    );
  });

  it('counts a hedge as a fallback; falls back to trace-level usage when spans carry none', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.observe(
      trace({
        id: 'req_hedge',
        decision: 'hedge',
        target: 'backup',
        tokensIn: 3,
        tokensOut: 4,
        costUsd: 0.25,
        spans: [
          span({ target: 'primary', outcome: 'cancelled', errorCode: 'KEEL_ATTEMPT_CANCELLED' }),
          span({ target: 'backup', reason: 'hedge' }),
        ],
      }),
    );
    const exp = parse(await metrics.render());
    assert.deepEqual(series(exp, 'keel_fallbacks_total'), new Map([[key({ route: 'chat' }), 1]]));
    assert.equal(value(exp, 'keel_tokens_total', { route: 'chat', target: 'backup', direction: 'in' }), 3);
    assert.equal(value(exp, 'keel_tokens_total', { route: 'chat', target: 'backup', direction: 'out' }), 4);
    assert.equal(value(exp, 'keel_cost_usd_total', { route: 'chat', target: 'backup' }), 0.25);
    assert.equal(series(exp, 'keel_attempt_errors_total').size, 0, 'a cancelled hedge loser is no error');
    assert.equal(
      value(exp, 'keel_upstream_duration_seconds_count', { target: 'primary', outcome: 'cancelled' }),
      1,
    );
  });

  it('keeps labels bounded: unknown routes, targets, codes and statuses become _other', async () => {
    const metrics = new Metrics({ names: { routes: ['chat'], targets: ['primary'] }, defaultMetrics: false });
    for (let i = 0; i < 50; i++) {
      metrics.observe(
        trace({
          id: `req_${i}`,
          route: `user-typed-model-${i}`,
          status: 404,
          outcome: 'error',
          decision: 'error',
          spans: [],
        }),
      );
    }
    metrics.observe(
      trace({
        id: 'req_odd',
        status: 0,
        target: 'mystery',
        spans: [span({ target: 'mystery', outcome: 'error', errorCode: 'free text from somewhere' })],
      }),
    );
    const exp = parse(await metrics.render());
    assert.deepEqual(
      series(exp, 'keel_requests_total'),
      new Map([
        [key({ route: '_other', target: 'none', status: '404', decision: 'error' }), 50],
        [key({ route: 'chat', target: '_other', status: '_other', decision: 'primary' }), 1],
      ]),
    );
    assert.deepEqual(
      series(exp, 'keel_attempt_errors_total'),
      new Map([[key({ target: '_other', code: '_other' }), 1]]),
    );

    const capped = new Metrics({ maxLabelValues: 3, defaultMetrics: false });
    for (let i = 0; i < 10; i++) capped.observe(trace({ id: `r${i}`, route: `r${i}`, spans: [] }));
    const routes = [...series(parse(await capped.render()), 'keel_request_duration_seconds_count').keys()];
    assert.deepEqual(routes.sort(), ['route=_other', 'route=r0', 'route=r1', 'route=r2']);
  });

  it('exposes breaker state and transitions', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setBreaker('primary', 'closed');
    metrics.setBreaker('backup', 'half-open');
    metrics.breakerTransition('primary', 'open');
    metrics.breakerTransition('primary', 'half-open');
    metrics.breakerTransition('primary', 'open');

    const listeners: Array<(t: { to: 'closed' | 'half-open' | 'open' }) => void> = [];
    const breaker = {
      state: { kind: 'open' as const },
      onTransition: (l: (t: { to: 'closed' | 'half-open' | 'open' }) => void) => listeners.push(l),
    };
    metrics.watchBreaker('third', breaker);
    let exp = parse(await metrics.render());
    assert.equal(exp.types.get('keel_breaker_state'), 'gauge');
    assert.deepEqual(
      series(exp, 'keel_breaker_state'),
      new Map([
        [key({ target: 'primary' }), 2],
        [key({ target: 'backup' }), 1],
        [key({ target: 'third' }), 2],
      ]),
    );
    for (const l of listeners) l({ to: 'half-open' });
    for (const l of listeners) l({ to: 'closed' });
    exp = parse(await metrics.render());
    assert.equal(value(exp, 'keel_breaker_state', { target: 'third' }), 0);
    assert.equal(exp.types.get('keel_breaker_transitions_total'), 'counter');
    assert.deepEqual(
      series(exp, 'keel_breaker_transitions_total'),
      new Map([
        [key({ target: 'primary', to: 'open' }), 2],
        [key({ target: 'primary', to: 'half-open' }), 1],
        [key({ target: 'third', to: 'half-open' }), 1],
        [key({ target: 'third', to: 'closed' }), 1],
      ]),
    );
  });

  it('reads the recorder queue figures on every scrape', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let exp = parse(await metrics.render());
    assert.equal(value(exp, 'keel_trace_queue_depth', {}), 0, 'no recorder yet');

    const stats = { queued: 7, dropped: 2, written: 120, writeErrors: 1 };
    metrics.collectRecorder(() => stats);
    exp = parse(await metrics.render());
    assert.equal(exp.types.get('keel_trace_queue_depth'), 'gauge');
    assert.equal(exp.types.get('keel_traces_dropped_total'), 'counter');
    assert.equal(value(exp, 'keel_trace_queue_depth', {}), 7);
    assert.equal(value(exp, 'keel_traces_dropped_total', {}), 2);
    assert.equal(value(exp, 'keel_traces_written_total', {}), 120);
    assert.equal(value(exp, 'keel_trace_write_errors_total', {}), 1);

    Object.assign(stats, { queued: 0, dropped: 5, written: 300, writeErrors: 1 });
    exp = parse(await metrics.render());
    assert.equal(value(exp, 'keel_trace_queue_depth', {}), 0);
    assert.equal(value(exp, 'keel_traces_dropped_total', {}), 5);
    assert.equal(value(exp, 'keel_traces_written_total', {}), 300);
  });

  it('includes process metrics under keel_, and instances do not share a registry', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.observe(streamed);
    const expA = parse(await a.render());
    const expB = parse(await b.render());
    assert.ok(expA.types.has('keel_process_cpu_user_seconds_total'));
    assert.ok(expA.types.has('keel_nodejs_eventloop_lag_seconds'));
    assert.equal(series(expA, 'keel_requests_total').size, 1);
    assert.equal(series(expB, 'keel_requests_total').size, 0);
    assert.match(a.contentType, /^text\/plain; version=0\.0\.4/);
  });
});
