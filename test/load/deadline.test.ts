import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gatewayFromYaml } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

// Timing-sensitive: runs in the sequential load phase, alone on the machine.
describe('deadline, in real time', () => {
  test('a request whose targets all hang ends at the route deadline, within a few ms', async () => {
    const hang = await startMockUpstream(() => ({ kind: 'hang' }));
    // Attempts time out at 100 ms and are retried at once; the third is cut by the 250 ms deadline.
    const yaml = `
breaker: { failureRate: 0.99, window: 100, minCalls: 100 }
providers: { up: { type: openai, baseUrl: "${hang.url}" } }
models: { m: { provider: up, model: m } }
routes:
  chat:
    deadlineMs: 250
    retryBudget: 5
    targets:
      - { model: m, timeoutMs: 100, retry: { max: 5, baseDelayMs: 0, maxDelayMs: 0 } }
`;
    const gateway = await gatewayFromYaml(yaml);
    try {
      const timings: number[] = [];
      for (let i = -1; i < 5; i++) {
        const started = performance.now();
        const res = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }),
        });
        if (i >= 0) timings.push(performance.now() - started); // i = -1 warms up
        assert.equal(res.status, 504);
        assert.equal(
          ((await res.json()) as { error: { code: string } }).error.code,
          'KEEL_DEADLINE_EXCEEDED',
        );
      }
      const worst = Math.max(...timings);
      console.log(`deadline 250 ms: answered after ${timings.map((t) => t.toFixed(1)).join(', ')} ms`);
      assert.ok(Math.min(...timings) >= 249, 'not before the deadline');
      assert.ok(worst < 250 + 40, `at most a few ms late (worst ${worst.toFixed(1)} ms)`);
    } finally {
      await gateway.close();
      await hang.close();
    }
  });
});
