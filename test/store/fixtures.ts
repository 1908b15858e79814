import type { Span, Trace } from '../../src/telemetry/trace.ts';

let seq = 0;

export function span(overrides: Partial<Span> = {}): Span {
  return {
    target: 'openai/gpt-4o',
    provider: 'openai',
    reason: 'primary',
    retry: 0,
    outcome: 'ok',
    startedAt: 1_000,
    latencyMs: 100,
    tokensIn: 10,
    tokensOut: 5,
    tokensCached: 0,
    estimated: false,
    costUsd: 0.25,
    ...overrides,
  };
}

/** A complete trace; every optional field can be set through overrides. */
export function trace(overrides: Partial<Trace> = {}): Trace {
  seq += 1;
  const startedAt = overrides.startedAt ?? 1_000 + seq;
  return {
    id: `tr_${String(seq).padStart(6, '0')}`,
    startedAt,
    endedAt: startedAt + 100,
    durationMs: 100,
    endpoint: 'chat',
    stream: false,
    route: 'chat',
    status: 200,
    outcome: 'ok',
    decision: 'primary',
    decisionPath: ['primary → openai/gpt-4o: ok in 100 ms', 'answered by openai/gpt-4o (primary)'],
    target: 'openai/gpt-4o',
    tokensIn: 10,
    tokensOut: 5,
    tokensCached: 0,
    estimated: false,
    costUsd: 0.25,
    spans: [span({ startedAt })],
    slots: {},
    request: { model: 'chat', messages: [{ role: 'user', content: 'hello there' }] },
    response: { choices: [{ message: { role: 'assistant', content: 'General Kenobi' } }] },
    ...overrides,
  };
}

/** A trace with every optional field filled, nested bodies and slots: for round trips. */
export function fullTrace(): Trace {
  return trace({
    feature: 'summarise',
    key: 'team-a',
    user: 'u_42',
    session: 's_7',
    errorCode: 'KEEL_UPSTREAM_5XX',
    errorMessage: 'upstream said 503',
    upstreamModel: 'gpt-4o-2024-08-06',
    ttftMs: 42.5,
    stream: true,
    estimated: true,
    tokensCached: 3,
    decision: 'fallback',
    spans: [
      span({
        outcome: 'error',
        errorCode: 'KEEL_UPSTREAM_5XX',
        errorMessage: 'bad gateway',
        upstreamStatus: 502,
        chaos: 'error-503',
      }),
      span({
        target: 'anthropic/claude',
        provider: 'anthropic',
        reason: 'fallback',
        upstreamModel: 'claude-3-5-sonnet',
        ttftMs: 12,
        estimated: true,
      }),
    ],
    slots: { promptVersion: 'v3', contextIds: ['doc1', 'doc2'], toolCalls: [{ name: 'f', args: { x: 1 } }] },
    request: {
      messages: [{ role: 'user', content: 'Ünïcödé "quoted" \\ text' }],
      n: 1,
      nested: [[null, true]],
    },
    response: 'plain string response',
  });
}
