import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { KeelError } from '../../src/core/errors.ts';
import { orderByRank } from '../../src/router/order.ts';
import { Router } from '../../src/router/router.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ScriptedProvider, type Step } from '../helpers/scripted-provider.ts';

const fail500 = () => new KeelError('KEEL_UPSTREAM_ERROR', 'upstream answered 500', { upstreamStatus: 500 });
const fail429 = (retryAfterMs: number) =>
  new KeelError('KEEL_UPSTREAM_RATE_LIMITED', 'upstream answered 429', { upstreamStatus: 429, retryAfterMs });

interface Setup {
  route?: string;
  primary?: string;
  backup?: string;
  breaker?: string;
}

/** A target's flow mapping: the given settings, with defaults for what they leave out. */
function target(settings = 'retry: { max: 0 }'): string {
  return settings.includes('timeoutMs') ? settings : `timeoutMs: 2000, ${settings}`;
}

function setup(primarySteps: Step[], backupSteps: Step[], s: Setup = {}) {
  const yaml = `
breaker: ${s.breaker ?? '{ failureRate: 0.5, window: 10, minCalls: 4, openMs: 1000 }'}
providers: { fake: { type: simulated } }
models:
  primary: { provider: fake, model: p }
  backup: { provider: fake, model: b }
routes:
  chat:
    ${s.route?.includes('deadlineMs') ? '' : 'deadlineMs: 3000'}
    ${s.route?.includes('retryBudget') ? '' : 'retryBudget: 3'}
    ${s.route ?? ''}
    targets:
      - { model: primary, ${target(s.primary)} }
      - { model: backup, ${target(s.backup)} }
`;
  const clock = new FakeClock();
  const primary = new ScriptedProvider(clock, primarySteps);
  const backup = new ScriptedProvider(clock, backupSteps);
  const router = new Router(parseConfig(yaml, { env: {} }), {
    providers: new Map([
      ['primary', primary],
      ['backup', backup],
    ]),
    clock,
    random: () => 0.5,
  });
  const call = () =>
    router
      .chat(
        'chat',
        { model: 'chat', messages: [{ role: 'user', content: 'x' }] },
        new AbortController().signal,
      )
      .then(
        (value) => ({ value, at: clock.now() - start }),
        (error: KeelError) => ({ error, at: clock.now() - start }),
      );
  const start = clock.now();
  return { clock, primary, backup, router, call, start };
}

describe('retries', () => {
  test('a target is retried at most retry.max times, then the chain falls back', async () => {
    const { clock, primary, backup, call } = setup([{ fail: fail500 }], [{ ok: 'b' }], {
      primary: 'retry: { max: 2, baseDelayMs: 100, maxDelayMs: 100 }',
    });
    const pending = call();
    await clock.advance(1000);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(primary.calls, 3, 'one try and two retries');
    assert.equal(backup.calls, 1);
    assert.equal(result.value.decision, 'fallback');
    assert.deepEqual(
      result.value.attempts.map((a) => `${a.target}:${a.reason}:${a.retry}:${a.outcome}`),
      ['primary:primary:0:error', 'primary:retry:1:error', 'primary:retry:2:error', 'backup:fallback:0:ok'],
    );
  });

  test('the per-request retry budget caps retries across all targets', async () => {
    const { clock, primary, backup, call } = setup([{ fail: fail500 }], [{ fail: fail500 }], {
      route: 'retryBudget: 2',
      primary: 'retry: { max: 5, baseDelayMs: 10, maxDelayMs: 10 }',
      backup: 'retry: { max: 5, baseDelayMs: 10, maxDelayMs: 10 }',
    });
    const pending = call();
    await clock.advance(2000);
    const result = await pending;
    assert.ok('error' in result);
    assert.equal(primary.calls + backup.calls, 4, 'two first tries plus a budget of two retries');
    assert.equal(result.error.code, 'KEEL_ALL_TARGETS_FAILED');
  });

  test('Retry-After is honoured when it fits inside the deadline', async () => {
    const { clock, primary, call } = setup([{ fail: () => fail429(800) }, { ok: 'p' }], [{ ok: 'b' }], {
      primary: 'retry: { max: 1, baseDelayMs: 10, maxDelayMs: 10 }',
    });
    const pending = call();
    await clock.advance(799);
    assert.equal(primary.calls, 1, 'no retry before Retry-After');
    await clock.advance(10);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(primary.calls, 2);
    assert.equal(result.value.decision, 'retry');
    assert.equal(result.value.target, 'primary');
  });

  test('a Retry-After longer than the deadline allows is not waited for: fall back at once', async () => {
    const { clock, backup, call } = setup([{ fail: () => fail429(60_000) }], [{ ok: 'b' }], {
      primary: 'retry: { max: 3, baseDelayMs: 10, maxDelayMs: 10 }',
    });
    const pending = call();
    await clock.advance(0);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.at, 0, 'answered without waiting');
    assert.equal(backup.calls, 1);
    assert.equal(result.value.decision, 'fallback');
  });

  test('non-retryable errors are not retried and not failed over', async () => {
    const bad = () => new KeelError('KEEL_UPSTREAM_BAD_REQUEST', 'upstream answered 400');
    const { clock, primary, backup, call } = setup([{ fail: bad }], [{ ok: 'b' }], {
      primary: 'retry: { max: 3 }',
    });
    const pending = call();
    await clock.advance(100);
    const result = await pending;
    assert.ok('error' in result);
    assert.equal(result.error.code, 'KEEL_UPSTREAM_BAD_REQUEST');
    assert.equal(primary.calls, 1);
    assert.equal(backup.calls, 0);
  });
});

describe('deadline and timeouts', () => {
  test('the route deadline ends the request on time and aborts every upstream call', async () => {
    const { clock, primary, backup, call } = setup([{ hang: true }], [{ hang: true }], {
      route: 'deadlineMs: 1000',
      primary: 'timeoutMs: 600, retry: { max: 0 }',
      backup: 'timeoutMs: 900, retry: { max: 0 }',
    });
    const pending = call();
    await clock.advance(5000);
    const result = await pending;
    assert.ok('error' in result);
    assert.equal(result.error.code, 'KEEL_DEADLINE_EXCEEDED');
    assert.equal(result.at, 1000, 'primary timed out at 600, backup cut by the deadline at 1000');
    assert.equal(primary.aborted, 1);
    assert.equal(backup.aborted, 1);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  test('a per-attempt timeout aborts that attempt and falls back', async () => {
    const { clock, primary, call } = setup([{ ok: 'late', afterMs: 5000 }], [{ ok: 'b', afterMs: 10 }], {
      primary: 'timeoutMs: 300, retry: { max: 0 }',
    });
    const pending = call();
    await clock.advance(1000);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.at, 310);
    assert.equal(primary.aborted, 1);
    assert.equal(result.value.attempts[0]?.errorCode, 'KEEL_PROVIDER_TIMEOUT');
  });
});

describe('timeouts are not retried while another target remains', () => {
  test('a hung primary with retries left goes straight to the backup: one timeout, not two', async () => {
    const { clock, primary, backup, call } = setup([{ hang: true }], [{ ok: 'b', afterMs: 10 }], {
      primary: 'timeoutMs: 300, retry: { max: 2, baseDelayMs: 10, maxDelayMs: 10 }',
    });
    const pending = call();
    await clock.advance(1000);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.at, 310);
    assert.equal(primary.calls, 1);
    assert.equal(backup.calls, 1);
  });

  test('the last target is retried after a timeout (it is the only hope left)', async () => {
    const { clock, backup, call } = setup([{ fail: fail500 }], [{ hang: true }, { ok: 'b', afterMs: 10 }], {
      backup: 'timeoutMs: 300, retry: { max: 1, baseDelayMs: 10, maxDelayMs: 10 }',
    });
    const pending = call();
    await clock.advance(2000);
    const result = await pending;
    assert.ok('value' in result, JSON.stringify(result));
    assert.equal(backup.calls, 2);
  });
});

describe('hedging (latency-threshold fallback)', () => {
  test('a slow primary is hedged: the backup starts at the threshold, the first answer wins, the loser is cancelled', async () => {
    const { clock, primary, backup, call } = setup(
      [{ ok: 'slow', afterMs: 1500 }],
      [{ ok: 'fast', afterMs: 100 }],
      {
        route: 'hedgeAfterMs: 500',
      },
    );
    const pending = call();
    await clock.advance(499);
    assert.equal(backup.calls, 0, 'no hedge before the threshold');
    await clock.advance(200);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.at, 600);
    assert.equal(result.value.decision, 'hedge');
    assert.equal(result.value.target, 'backup');
    assert.equal(primary.aborted, 1, 'the slower attempt was cancelled');
    assert.equal(result.value.attempts[0]?.outcome, 'cancelled');
  });

  test('if the hedge fails, the original attempt can still win', async () => {
    const { clock, call } = setup([{ ok: 'slow', afterMs: 800 }], [{ fail: fail500, afterMs: 100 }], {
      route: 'hedgeAfterMs: 500',
    });
    const pending = call();
    await clock.advance(1000);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.value.target, 'primary');
    assert.equal(result.value.decision, 'primary');
    assert.equal(result.at, 800);
  });
});

describe('circuit breaker in the chain', () => {
  test('a hung primary that keeps losing to the hedge opens its breaker; then requests skip it without waiting', async () => {
    const hung = { ok: 'too late', afterMs: 60_000 };
    const { clock, primary, backup, router, call, start } = setup(
      [hung, hung, hung, hung, hung],
      [{ ok: 'b', afterMs: 50 }],
      { route: 'hedgeAfterMs: 300' },
    );
    const elapsed = async (ms: number) => {
      const began = clock.now() - start;
      const pending = call();
      await clock.advance(ms);
      const result = await pending;
      return { result, took: result.at - began };
    };
    for (let i = 0; i < 4; i++) {
      const { result, took } = await elapsed(400);
      assert.ok('value' in result);
      assert.equal(result.value.decision, 'hedge');
      assert.equal(took, 350, 'each waited the hedge threshold, then the backup answered');
      assert.equal(result.value.attempts[0]?.outcome, 'cancelled');
      assert.equal(result.value.attempts[0]?.errorCode, 'KEEL_ATTEMPT_TOO_SLOW');
    }
    assert.equal(primary.aborted, 4, 'every hung attempt was cancelled, not left running');
    assert.equal(router.breakers.get('primary')?.state.kind, 'open', 'four slow calls out of four open it');
    const { result, took } = await elapsed(100);
    assert.ok('value' in result);
    assert.equal(primary.calls, 4, 'the open breaker skips the hung primary');
    assert.equal(result.value.target, 'backup');
    assert.equal(took, 50, 'no hedge wait any more');
    assert.equal(backup.calls, 5);
  });

  test('the backup losing a race it joined late is a plain cancel: it does not count against its breaker', async () => {
    const { clock, router, call } = setup([{ ok: 'slow', afterMs: 400 }], [{ ok: 'b', afterMs: 500 }], {
      route: 'hedgeAfterMs: 300',
    });
    const pending = call();
    await clock.advance(1000);
    const result = await pending;
    assert.ok('value' in result);
    assert.equal(result.value.target, 'primary');
    assert.equal(result.value.attempts[1]?.errorCode, 'KEEL_ATTEMPT_CANCELLED');
    assert.equal(router.breakers.get('backup')?.state.kind, 'closed');
  });

  test('an open breaker stops calls to a dead target; after openMs one probe goes through and closes it', async () => {
    const { clock, primary, router, call } = setup(
      [{ fail: fail500 }, { fail: fail500 }, { fail: fail500 }, { fail: fail500 }, { ok: 'recovered' }],
      [{ ok: 'b' }],
    );
    for (let i = 0; i < 4; i++) {
      const pending = call();
      await clock.advance(0);
      await pending;
    }
    assert.equal(primary.calls, 4);
    assert.equal(router.breakers.get('primary')?.state.kind, 'open');
    // Open: the next requests skip the primary entirely.
    for (let i = 0; i < 3; i++) {
      const pending = call();
      await clock.advance(0);
      const result = await pending;
      assert.ok('value' in result);
      assert.equal(result.value.target, 'backup');
      assert.equal(result.value.attempts[0]?.outcome, 'skipped');
    }
    assert.equal(primary.calls, 4, 'no call reached the dead target while open');
    await clock.advance(1000);
    const pending = call();
    await clock.advance(0);
    const probe = await pending;
    assert.ok('value' in probe);
    assert.equal(probe.value.target, 'primary', 'the half-open probe succeeded');
    assert.equal(primary.calls, 5);
    assert.equal(router.breakers.get('primary')?.state.kind, 'closed');
  });
});

describe('weighted load balancing', () => {
  test('targets of equal rank share first place in proportion to weight', () => {
    const targets = [
      { name: 'a', settings: { rank: 0, weight: 3 } },
      { name: 'b', settings: { rank: 0, weight: 1 } },
      { name: 'c', settings: { rank: 1, weight: 100 } },
    ];
    let firstA = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const order = orderByRank(targets);
      if (order[0]?.name === 'a') firstA++;
      assert.equal(order[2]?.name, 'c', 'a higher rank always comes after');
    }
    const share = firstA / n;
    assert.ok(share > 0.71 && share < 0.79, `a went first in ${share} of orders (expected 0.75)`);
  });
});

describe('model:NAME routes', () => {
  test('address one model alone: no retry, no fallback; unknown models are not routes', async () => {
    const { router, backup } = setup([{ fail: fail500 }], [{ ok: 'from backup' }]);
    const signal = new AbortController().signal;
    const ok = await router.chat('model:backup', { model: 'model:backup', messages: [] }, signal);
    assert.equal(ok.target, 'backup');
    assert.equal(ok.completion.choices[0]?.message.content, 'from backup');
    assert.equal(backup.calls, 1);
    // The primary alone fails: nothing falls back to the backup.
    await assert.rejects(
      router.chat('model:primary', { model: 'model:primary', messages: [] }, signal),
      (err: KeelError) =>
        err.code === 'KEEL_ALL_TARGETS_FAILED' && /primary: KEEL_UPSTREAM_ERROR/.test(err.message),
    );
    assert.equal(backup.calls, 1);
    assert.throws(
      () => router.route('model:nope'),
      (err: KeelError) => err.code === 'KEEL_UNKNOWN_ROUTE',
    );
  });
});
