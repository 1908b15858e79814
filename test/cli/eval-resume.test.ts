/**
 * `keel eval run` stopped part way (`--max-pairs`) and run again with the same `--run-dir`: every case
 * is invoked and scored exactly once. Also: a route target, and cost read from each request's trace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keelEval, roleText, wordsSuite } from './eval-cli.ts';

const CASES = 12;

describe('keel eval run: stop and resume', () => {
  const suite = wordsSuite({ delayMs: 20, pricing: '{ inputPerMTok: 1000, outputPerMTok: 2000 }' }, CASES);
  const runDir = () => suite.runDir();
  const run = (...extra: string[]) => keelEval(...suite.runArgs('exact,cost=1', 3), ...extra);
  const lines = () =>
    readFileSync(join(runDir(), 'results.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { caseId: string; costUsd?: number; scores: Record<string, unknown> },
      );

  it('a stopped run has no verdict (exit 2); rerunning the same run dir finishes it, each case once', async () => {
    const first = await run('--max-pairs', '5');
    console.log(first.err);
    assert.equal(first.code, 2, first.err);
    assert.match(first.err, /stopped: \d+ of 12 pairs done .*Resume: rerun the same command with --run-dir/);
    assert.doesNotMatch(first.out, /gate:/);
    const partial = lines().length;
    // The pairs in flight when the limit was reached finish and are kept: at least 5, fewer than all.
    assert.ok(partial >= 5 && partial < CASES, `${partial} pairs after the first session`);
    assert.equal(suite.upstream.received.length, partial);

    const second = await run();
    console.log(second.err, second.out);
    assert.equal(second.code, 0, second.err);
    assert.match(
      second.err,
      new RegExp(`resumed: ${partial} pairs were already done, ${CASES - partial} run now`),
    );
    assert.match(second.out, /gate: PASS/);

    const results = lines();
    assert.equal(results.length, CASES);
    assert.deepEqual(
      results.map((r) => r.caseId).sort(),
      Array.from({ length: CASES }, (_, n) => `c${n}`).sort(),
    );
    // Each case reached the model exactly once over both sessions.
    const asked = suite.upstream.received.map((r) => roleText(r.body, 'user')).sort();
    assert.deepEqual(asked, Array.from({ length: CASES }, (_, n) => `say w${n}`).sort());
    // Route answers get their cost from the trace: 5 input and 3 output tokens at the model's prices.
    for (const r of results) assert.equal(r.costUsd, (5 * 1000 + 3 * 2000) / 1e6, JSON.stringify(r));
  });

  it('a third run of a finished run dir invokes nothing and gives the same verdict', async () => {
    const before = suite.upstream.received.length;
    const third = await run();
    assert.equal(third.code, 0, third.err);
    assert.equal(suite.upstream.received.length, before);
    assert.match(third.err, /resumed: 12 pairs were already done, 0 run now/);
  });

  it('the run dir refuses a different run: other scorers exit 2 naming the difference', async () => {
    const other = await keelEval(...suite.runArgs('contains'));
    assert.equal(other.code, 2);
    assert.match(other.err, /holds a different run \(scorers \[exact, cost\] ≠ \[contains\]\)/);
  });
});
