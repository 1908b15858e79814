import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatRequest } from '../../../src/core/types.ts';
import { EdgeError } from '../../../src/edge/limits/errors.ts';
import {
  type Admission,
  type AdmitResult,
  budgetPeriodAt,
  estimateRequestTokens,
  formatResetDuration,
  Limiter,
  maxOutputTokens,
  type Rejection,
  worstCaseCost,
} from '../../../src/edge/limits/limiter.ts';
import { MemoryLimitStore } from '../../../src/edge/limits/memory-store.ts';
import { BUILT_IN_PRICES } from '../../../src/telemetry/cost.ts';
import { FakeClock } from '../../helpers/fake-clock.ts';
import { JitteryStore, rng } from './support.ts';

function setup(seed = 1) {
  const clock = new FakeClock();
  const memory = new MemoryLimitStore({ clock });
  const store = new JitteryStore(memory, rng(seed));
  const limiter = new Limiter({ store, clock });
  return { clock, memory, store, limiter };
}

function admitted(result: AdmitResult): Admission {
  assert.equal(result.ok, true, result.ok ? '' : result.error.message);
  return result as Admission;
}

function rejected(result: AdmitResult): Rejection {
  assert.equal(result.ok, false, 'expected a rejection');
  return result as Rejection;
}

const route = { name: 'chat' };

test('RPM under 2000 concurrent attempts: at most the limit is admitted', async () => {
  const { limiter } = setup(7);
  const key = { name: 'alice', rpm: 1000 };
  const results = await Promise.all(
    Array.from({ length: 2000 }, () => limiter.admit({ key, route, estimatedTokens: 10, worstCaseUsd: 0 })),
  );
  const count = results.filter((r) => r.ok).length;
  const overshoot = (count - 1000) / 1000;
  console.log(
    `RPM: limit 1000, 2000 concurrent attempts -> admitted ${count} (overshoot ${(overshoot * 100).toFixed(2)}%)`,
  );
  assert.ok(count <= 1010, `admitted ${count}`);
  assert.ok(count >= 990, `admitted ${count}: compensation must not starve the key`);
  const refusal = results.find((r) => !r.ok) as Rejection;
  assert.equal(refusal.error.limit?.kind, 'requests');
  assert.equal(refusal.error.limit?.scope, 'key');
  assert.match(refusal.error.message, /Rate limit reached for key 'alice': 1000 requests per minute/);
  assert.equal(refusal.retryAfterMs, 60);
});

test('RPM with key and route limits, 200 concurrent workers over many keys: neither limit overshoots', async () => {
  const { limiter } = setup(11);
  const sharedRoute = { name: 'chat', rpm: 500 };
  const perKey = new Map<string, number>();
  let total = 0;
  await Promise.all(
    Array.from({ length: 200 }, async (_, worker) => {
      const key = { name: `k${worker % 10}`, rpm: 60 };
      for (let i = 0; i < 10; i++) {
        const r = await limiter.admit({ key, route: sharedRoute, estimatedTokens: 1, worstCaseUsd: 0 });
        if (!r.ok) continue;
        total++;
        perKey.set(key.name, (perKey.get(key.name) ?? 0) + 1);
      }
    }),
  );
  const worstKey = Math.max(...perKey.values());
  console.log(
    `RPM: route limit 500 / key limit 60 x10 keys, 2000 attempts by 200 workers -> route admitted ${total}, ` +
      `busiest key ${worstKey} (overshoot ${(((worstKey - 60) / 60) * 100).toFixed(2)}%)`,
  );
  assert.ok(total <= 505);
  assert.ok(worstKey <= 60);
  assert.equal(total, 500, 'the route limit binds: 10 keys x 60 > 500');
});

test('TPM under 200 concurrent workers whose usage differs from the estimate: reserved + used stays under the limit', async () => {
  const { limiter } = setup(23);
  const random = rng(99);
  const routeLimits = { name: 'chat', tpm: 100_000 };
  const keyA = { name: 'a', tpm: 15_000 };
  const keyB = { name: 'b' };
  let outstanding = 0; // reserved by requests in flight (route-wide)
  let used = 0; // settled actual usage (route-wide)
  let usedA = 0;
  let outstandingA = 0;
  let peak = 0;
  let peakA = 0;
  let excess = 0; // usage above estimate, which the limiter cannot know in advance
  let excessA = 0;
  let settled = 0;
  await Promise.all(
    Array.from({ length: 200 }, async (_, worker) => {
      const key = worker % 2 === 0 ? keyA : keyB;
      let misses = 0;
      for (let i = 0; i < 50 && misses < 5; i++) {
        const estimate = 200 + Math.floor(random() * 1800);
        const r = await limiter.admit({
          key,
          route: routeLimits,
          estimatedTokens: estimate,
          worstCaseUsd: 0,
        });
        if (!r.ok) {
          if (r.error.limit?.fits === false) throw new Error('unexpected too-large');
          misses++; // time is frozen: after a few refusals in a row the buckets are (nearly) full
          await new Promise((res) => setImmediate(res));
          continue;
        }
        misses = 0;
        outstanding += estimate;
        if (key === keyA) outstandingA += estimate;
        peak = Math.max(peak, outstanding + used);
        peakA = Math.max(peakA, outstandingA + usedA);
        // 90% use less than estimated (max_tokens is rarely reached), 10% up to 5% more (prompt under-estimate).
        const roll = random();
        const actual = Math.round(estimate * (roll < 0.9 ? 0.1 + random() * 0.9 : 1 + random() * 0.05));
        for (let t = Math.floor(random() * 4); t > 0; t--) await new Promise((res) => setImmediate(res));
        // The request is finished: from now on it has used `actual` (the store learns it during settle).
        settled++;
        outstanding -= estimate;
        used += actual;
        excess += Math.max(0, actual - estimate);
        if (key === keyA) {
          outstandingA -= estimate;
          usedA += actual;
          excessA += Math.max(0, actual - estimate);
        }
        peak = Math.max(peak, outstanding + used);
        peakA = Math.max(peakA, outstandingA + usedA);
        await r.settle(actual, 0);
      }
    }),
  );
  const overshoot = (peak - 100_000) / 100_000;
  const overshootA = (peakA - 15_000) / 15_000;
  console.log(
    `TPM: route limit 100000, 200 workers, ${settled} requests settled -> peak reserved+used ${peak} ` +
      `(overshoot ${(overshoot * 100).toFixed(2)}%; usage above estimates ${excess}); ` +
      `key 'a' limit 15000 -> peak ${peakA} (overshoot ${(overshootA * 100).toFixed(2)}%; above estimates ${excessA})`,
  );
  assert.ok(peak <= 100_000 * 1.01, `route peak ${peak}`);
  assert.ok(peakA <= 15_000 * 1.01, `key peak ${peakA}`);
  assert.ok(peak <= 100_000 + excess, 'only usage above the estimate can exceed the limit');
  assert.ok(peakA <= 15_000 + excessA);
  assert.ok(used >= 90_000, `route used ${used}: the limit is not starved`);
});

test('usage above the reservation is charged: the bucket goes into debt and later requests wait', async () => {
  const { limiter, clock } = setup();
  const limits = { name: 'chat', tpm: 6000 }; // 100 tokens per second
  const a = admitted(await limiter.admit({ route: limits, estimatedTokens: 5000, worstCaseUsd: 0 }));
  await a.settle(6500, 0); // 1500 over the estimate -> 500 tokens of debt
  const r = rejected(await limiter.admit({ route: limits, estimatedTokens: 100, worstCaseUsd: 0 }));
  assert.equal(r.retryAfterMs, 6000, '500 debt + 100 needed at 100 tokens/s');
  assert.equal(r.error.limit?.kind, 'tokens');
  assert.equal(r.error.limit?.scope, 'route');
  await clock.advance(6000);
  admitted(await limiter.admit({ route: limits, estimatedTokens: 100, worstCaseUsd: 0 }));
});

test('a refusal by one limit gives back what the others took; release gives back everything', async () => {
  const { limiter, memory } = setup();
  const key = { name: 'k', rpm: 10, tpm: 10_000, budgetUsd: 5, budgetPeriod: 'day' as const };
  const tight = { name: 'chat', rpm: 1 };
  admitted(await limiter.admit({ key, route: tight, estimatedTokens: 1000, worstCaseUsd: 1 }));
  const r = rejected(await limiter.admit({ key, route: tight, estimatedTokens: 1000, worstCaseUsd: 1 }));
  assert.equal(r.error.limit?.scope, 'route');
  assert.equal(memory.peekBucket('keel:rl:key:k:rpm', { capacity: 10, perMs: 60_000 }).remaining, 9);
  assert.equal(memory.peekBucket('keel:rl:key:k:tpm', { capacity: 10_000, perMs: 60_000 }).remaining, 9000);
  const ledger = 'keel:budget:key:k:1970-01-01';
  assert.deepEqual(
    memory.peekLedger(ledger),
    { spent: 0, reserved: 1 },
    'only the admitted request holds budget',
  );

  const roomy = { name: 'roomy' };
  const a = admitted(await limiter.admit({ key, route: roomy, estimatedTokens: 1000, worstCaseUsd: 1 }));
  await a.release();
  await a.settle(1000, 1); // ignored: only the first settle/release counts
  assert.equal(memory.peekBucket('keel:rl:key:k:rpm', { capacity: 10, perMs: 60_000 }).remaining, 9);
  assert.equal(memory.peekBucket('keel:rl:key:k:tpm', { capacity: 10_000, perMs: 60_000 }).remaining, 9000);
  assert.deepEqual(memory.peekLedger(ledger), { spent: 0, reserved: 1 });
});

test('budget under 200 concurrent workers: spent + reserved never passes the budget', async () => {
  const { limiter, memory, clock } = setup(5);
  const random = rng(3);
  const key = { name: 'alice', budgetUsd: 1, budgetPeriod: 'day' as const };
  const ledger = `keel:budget:key:alice:${budgetPeriodAt(clock.now(), 'day').label}`;
  let peak = 0;
  let admittedCount = 0;
  let budgetRefusal: Rejection | undefined;
  const watch = () => {
    const l = memory.peekLedger(ledger);
    if (l) peak = Math.max(peak, l.spent + l.reserved);
  };
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      for (let i = 0; i < 20; i++) {
        const worst = 0.005 + random() * 0.03;
        const r = await limiter.admit({ key, route, estimatedTokens: 100, worstCaseUsd: worst });
        watch();
        if (!r.ok) {
          budgetRefusal ??= r;
          break;
        }
        admittedCount++;
        await new Promise((res) => setImmediate(res));
        await r.settle(100, worst * (0.1 + random() * 0.9));
        watch();
      }
    }),
  );
  const final = memory.peekLedger(ledger)!;
  console.log(
    `Budget: $1/day, 200 workers, ${admittedCount} admitted -> peak spent+reserved $${peak.toFixed(6)} ` +
      `(overshoot ${(((peak - 1) / 1) * 100).toFixed(2)}%), final spent $${final.spent.toFixed(4)}, reserved $${final.reserved.toFixed(6)}`,
  );
  assert.ok(peak <= 1 + 1e-9, `peak ${peak}`);
  assert.equal(final.reserved, 0, 'every reservation was settled');
  assert.ok(final.spent >= 0.95, `settling returned unused reservations: spent ${final.spent}`);
  const refusal = budgetRefusal!;
  assert.equal(refusal.error.limit?.kind, 'budget');
  assert.equal(refusal.error.edgeCode, 'KEEL_BUDGET_EXCEEDED');
  assert.match(refusal.error.message, /^Budget exceeded for key 'alice': \$1\.00 per day/);
  assert.equal(refusal.retryAfterMs, 86_400_000 - clock.now(), 'resets at midnight UTC');
  assert.equal(refusal.headers['retry-after'], String(Math.ceil((86_400_000 - clock.now()) / 1000)));
});

test('budget: settle charges the actual cost and returns the rest; a request costlier than the whole budget is told so', async () => {
  const { limiter, memory, clock } = setup();
  const key = { name: 'bob', budgetUsd: 2, budgetPeriod: 'month' as const };
  const ledger = `keel:budget:key:bob:${budgetPeriodAt(clock.now(), 'month').label}`;
  assert.equal(ledger, 'keel:budget:key:bob:1970-01');
  const a = admitted(await limiter.admit({ key, route, estimatedTokens: 1, worstCaseUsd: 1.5 }));
  assert.deepEqual(memory.peekLedger(ledger), { spent: 0, reserved: 1.5 });
  rejected(await limiter.admit({ key, route, estimatedTokens: 1, worstCaseUsd: 1 }));
  await a.settle(1, 0.25);
  assert.deepEqual(memory.peekLedger(ledger), { spent: 0.25, reserved: 0 });
  admitted(await limiter.admit({ key, route, estimatedTokens: 1, worstCaseUsd: 1 }));

  const tooBig = rejected(await limiter.admit({ key, route, estimatedTokens: 1, worstCaseUsd: 3 }));
  assert.equal(tooBig.retryAfterMs, undefined);
  assert.equal(tooBig.error.limit?.fits, false);
  assert.match(tooBig.error.message, /more than the whole budget of \$2\.00 per month/);
});

test('headers: OpenAI names and formats, for the tightest of the key and route limits', async () => {
  const { limiter } = setup();
  const key = { name: 'k', rpm: 100, tpm: 10_000 };
  const limits = { name: 'chat', rpm: 1000, tpm: 5000 };
  const a = admitted(await limiter.admit({ key, route: limits, estimatedTokens: 1000, worstCaseUsd: 0 }));
  assert.deepEqual(a.headers, {
    'x-ratelimit-limit-requests': '100',
    'x-ratelimit-remaining-requests': '99',
    'x-ratelimit-reset-requests': '600ms',
    'x-ratelimit-limit-tokens': '5000',
    'x-ratelimit-remaining-tokens': '4000',
    'x-ratelimit-reset-tokens': '12s',
  });
  const none = admitted(
    await limiter.admit({ route: { name: 'free' }, estimatedTokens: 1, worstCaseUsd: 0 }),
  );
  assert.deepEqual(none.headers, {});

  const r = rejected(await limiter.admit({ key, route: limits, estimatedTokens: 4500, worstCaseUsd: 0 }));
  assert.equal(r.error.limit?.scope, 'route');
  assert.equal(r.retryAfterMs, 6000);
  assert.equal(r.headers['x-ratelimit-remaining-tokens'], '4000');
  assert.equal(r.headers['retry-after'], '6');
  assert.equal(r.headers['retry-after-ms'], '6000');
  assert.match(
    r.error.message,
    /route 'chat': 5000 tokens per minute \(this request needs about 4500\)\. Retry in 6s\./,
  );
});

test('reset durations are formatted like OpenAI (Go durations)', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [120, '120ms'],
    [1000, '1s'],
    [17_280, '17.28s'],
    [61_500, '1m1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ];
  for (const [ms, text] of cases) assert.equal(formatResetDuration(ms), text, `${ms}`);
});

test('a request larger than a limit is refused without a retry time', async () => {
  const { limiter } = setup();
  const r = rejected(
    await limiter.admit({ key: { name: 'k', tpm: 1000 }, route, estimatedTokens: 1500, worstCaseUsd: 0 }),
  );
  assert.equal(r.retryAfterMs, undefined);
  assert.equal(r.error.limit?.fits, false);
  assert.equal(r.headers['retry-after'], undefined);
  assert.match(r.error.message, /^Request too large for key 'k': it needs about 1500 tokens/);
});

test('edge errors are 429s that are never retried and never trip a breaker', async () => {
  const { limiter } = setup();
  await limiter.admit({ key: { name: 'k', rpm: 1 }, route, estimatedTokens: 1, worstCaseUsd: 0 });
  const r = rejected(
    await limiter.admit({ key: { name: 'k', rpm: 1 }, route, estimatedTokens: 1, worstCaseUsd: 0 }),
  );
  assert.ok(r.error instanceof EdgeError);
  assert.equal(r.error.status, 429);
  assert.equal(r.error.type, 'rate_limit_error');
  assert.equal(r.error.retryable, false);
  assert.equal(r.error.countsForBreaker, false);
  assert.equal(r.error.edgeCode, 'KEEL_RATE_LIMITED');
  assert.equal(r.error.retryAfterMs, 60_000);
});

test('estimates: prompt chars / 4 + 4 per message + max tokens (default 1024, times n); worst-case cost', () => {
  const base: ChatRequest = {
    model: 'chat',
    messages: [
      { role: 'system', content: 'x'.repeat(40) },
      { role: 'user', content: [{ type: 'text', text: 'y'.repeat(360) }] },
    ],
  };
  assert.equal(estimateRequestTokens(base), 100 + 8 + 1024);
  assert.equal(estimateRequestTokens({ ...base, max_tokens: 50 }), 158);
  assert.equal(estimateRequestTokens({ ...base, max_completion_tokens: 60 }), 168);
  assert.equal(estimateRequestTokens({ ...base, max_tokens: 50, n: 3 }), 258);
  assert.equal(maxOutputTokens({ ...base, max_tokens: 50, n: 3 }), 150);
  assert.equal(
    estimateRequestTokens({
      ...base,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:...' } }] }],
      max_tokens: 0,
    }),
    4 + 765,
  );
  const price = BUILT_IN_PRICES['gpt-4o'];
  assert.ok(Math.abs(worstCaseCost(1100, 100, price) - (1000 * 2.5 + 100 * 10) / 1e6) < 1e-12);
  assert.equal(worstCaseCost(1100, 100, undefined), 0);
});
