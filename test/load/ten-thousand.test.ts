import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { gatewayFromYaml } from '../helpers/gateway.ts';

/**
 * The headline promise: a route whose primary fails 30% of calls and hangs on 10% still answers every
 * one of 10,000 requests, through real HTTP and the official client.
 */
test('10,000 requests through a flaky primary: every one succeeds', async () => {
  // The breaker is set not to open, so every request meets the faults and retry/fallback must carry it.
  const gateway = await gatewayFromYaml(`
breaker: { failureRate: 0.95, window: 100, minCalls: 100 }
providers: { sim: { type: simulated } }
models:
  primary:
    provider: sim
    model: flaky
    simulate:
      ttftMs: { p50: 1, p99: 5 }
      tokensPerSecond: 100000
      faults: { errorRate: 0.3, errorStatuses: [500, 502, 503, 429], hangRate: 0.1 }
  backup:
    provider: sim
    model: steady
    simulate: { ttftMs: { p50: 1, p99: 3 }, tokensPerSecond: 100000 }
routes:
  chat:
    deadlineMs: 5000
    retryBudget: 2
    targets:
      - { model: primary, timeoutMs: 100, retry: { max: 1, baseDelayMs: 5, maxDelayMs: 20 } }
      - { model: backup, timeoutMs: 1000, retry: { max: 1, baseDelayMs: 5, maxDelayMs: 20 } }
`);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const total = 10_000;
  const concurrency = 64;
  const decisions = new Map<string, number>();
  const failures: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < total) {
      next++;
      const t0 = performance.now();
      try {
        const { data, response } = await client.chat.completions
          .create({ model: 'chat', messages: [{ role: 'user', content: 'ping' }] })
          .withResponse();
        if (!data.choices[0]?.message.content) failures.push('empty answer');
        const decision = response.headers.get('x-keel-decision') ?? '?';
        decisions.set(decision, (decisions.get(decision) ?? 0) + 1);
      } catch (err) {
        failures.push(String(err));
      }
      latencies.push(performance.now() - t0);
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await gateway.close();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  const ok = total - failures.length;
  console.log(
    `10k flaky-primary run: ${ok}/${total} succeeded (${((100 * ok) / total).toFixed(2)}%) in ${seconds.toFixed(1)} s; ` +
      `decisions ${JSON.stringify(Object.fromEntries(decisions))}; latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms`,
  );
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed`);
  assert.equal(ok, total);
  assert.ok(
    (decisions.get('fallback') ?? 0) + (decisions.get('retry') ?? 0) > total * 0.2,
    'the faults really happened',
  );
});
