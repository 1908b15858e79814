import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import { sampled } from '../../src/server/online-evals.ts';
import { gatewayFromYaml, waitForTrace } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';

describe('online evaluation', () => {
  it('samples a configured share of requests, the same way every time', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `req_${i.toString(16).padStart(32, '0')}`);
    for (const rate of [0.1, 0.25]) {
      const share = ids.filter((id) => sampled(id, rate)).length / ids.length;
      console.log(`online judge sample at ${rate}: ${(share * 100).toFixed(2)}% of 20,000 requests`);
      assert.ok(Math.abs(share - rate) < 0.01, `share ${share} for rate ${rate}`);
    }
    assert.equal(sampled('req_x', 0), false);
    assert.equal(sampled('req_x', 1), true);
    assert.deepEqual(
      ids.slice(0, 100).map((id) => sampled(id, 0.1)),
      ids.slice(0, 100).map((id) => sampled(id, 0.1)),
    );
  });

  describe('through a gateway', () => {
    let model: MockUpstream;
    let judge: MockUpstream;
    let gw: Gateway;
    let verdicts: string[] = [];

    before(async () => {
      model = await startMockUpstream((_n, body) => {
        const text = JSON.stringify(body.messages);
        return {
          kind: 'ok',
          text: text.includes('refuse') ? "I'm sorry, but I can't help with that." : 'Paris.',
        };
      });
      judge = await startMockUpstream(() => ({
        kind: 'ok',
        text: verdicts.shift() ?? '{"score": 5, "reason": "ok"}',
      }));
      gw = await gatewayFromYaml(`
providers:
  up: { type: openai, baseUrl: "${model.url}" }
  j: { type: openai, baseUrl: "${judge.url}" }
models:
  m: { provider: up, model: m }
  jm: { provider: j, model: judge-model }
routes:
  main: { targets: [{ model: m, retry: { max: 0 } }] }
  judge: { targets: [{ model: jm, retry: { max: 0 } }] }
features:
  capital:
    route: main
    messages: [{ role: user, content: "{{q}}" }]
    evals:
      maxLatencyMs: 5000
      length: { min: 1, max: 200 }
      judge: { route: judge, rubric: "A correct, short answer.", sample: 1 }
`);
    });

    after(async () => {
      await gw.close();
      await model.close();
      await judge.close();
    });

    const ask = async (q: string) => {
      const res = await fetch(`${gw.url}/v1/features/capital`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ variables: { q } }),
      });
      assert.equal(res.status, 200);
      return waitForTrace(gw, res.headers.get('x-request-id')!);
    };

    it('puts heuristic scores and the judge verdict on the trace; a malformed verdict is retried', async () => {
      verdicts = ['not json at all', '{"score": 4, "reason": "correct but terse"}'];
      const trace = await ask('Capital of France?');
      const byName = Object.fromEntries((trace.slots.evals ?? []).map((e) => [e.name, e]));
      assert.equal(byName.contract?.value, 1);
      assert.equal(byName.refusal?.value, 1);
      assert.equal(byName.latency?.value, 1);
      assert.equal(byName.length?.value, 1);
      assert.equal(byName.judge?.kind, 'judged');
      assert.equal(byName.judge?.value, 0.75); // 4 on a 1..5 scale
      assert.equal(judge.received.length, 2);
    });

    it('a judge that never answers in shape is recorded as an error, not a 0', async () => {
      verdicts = ['nope', 'still nope', 'never'];
      const trace = await ask('Capital of Italy?');
      const verdict = trace.slots.evals?.find((e) => e.name === 'judge');
      assert.equal(verdict?.value, undefined);
      assert.match(verdict?.error ?? '', /./);
    });

    it('a refusal scores 0 and stats show the scores per feature and prompt version', async () => {
      verdicts = [];
      const trace = await ask('Please refuse this');
      assert.equal(trace.slots.evals?.find((e) => e.name === 'refusal')?.value, 0);
      const stats = (await (await fetch(`${gw.url}/admin/stats?window=1h`)).json()) as {
        scores: Array<{
          feature: string;
          metric: string;
          scored: number;
          errors: number;
          mean: number | null;
        }>;
      };
      const refusal = stats.scores.find((r) => r.feature === 'capital' && r.metric === 'refusal');
      assert.equal(refusal?.scored, 3);
      assert.ok(Math.abs((refusal?.mean ?? 0) - 2 / 3) < 1e-9);
      const judged = stats.scores.find((r) => r.metric === 'judge');
      assert.equal(judged?.errors, 1);
      assert.equal(judged?.scored, 2);
    });
  });
});
