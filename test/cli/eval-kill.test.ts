/**
 * `keel eval run` killed with SIGKILL part way (a real child process, no chance to clean up), then run
 * again with the same `--run-dir`: every pair ends up scored exactly once, and only the pairs that were
 * in flight at the kill reach the model twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keelEval, wordsSuite } from './eval-cli.ts';

const CASES = 30;
const CONCURRENCY = 3;
const bin = new URL('../../src/cli/bin.ts', import.meta.url).pathname;

describe('keel eval run: SIGKILL mid-run, then resume', () => {
  const suite = wordsSuite({ delayMs: 40 }, CASES);
  const args = () => ['eval', ...suite.runArgs('exact', CONCURRENCY)];
  const results = () => {
    const file = join(suite.runDir(), 'results.jsonl');
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
      : [];
  };

  it('scores every pair exactly once across the kill', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args()], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (results().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Requests the child had sent may still be on their way to the model: let them land first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = results().length;
    assert.ok(before >= 8 && before < CASES, `killed after ${before} results`);
    const calledBeforeResume = suite.upstream.received.length;

    const resumed = await keelEval(...args().slice(1));
    assert.equal(resumed.code, 0, resumed.err + resumed.out);
    const ids = results().map((l) => (JSON.parse(l) as { caseId: string }).caseId);
    assert.equal(new Set(ids).size, CASES, 'every case scored');
    assert.equal(ids.length, CASES, 'no case scored twice');
    // What the resume sent: every unscored case, and nothing that was already scored.
    assert.equal(suite.upstream.received.length - calledBeforeResume, CASES - before);
    // Only pairs in flight at the kill reached the model twice.
    assert.ok(
      suite.upstream.received.length <= CASES + CONCURRENCY,
      `${suite.upstream.received.length} calls`,
    );
    console.log(
      `killed after ${before}/${CASES} results; resume ran ${CASES - before}; model calls ${suite.upstream.received.length} (≤ ${CASES} + ${CONCURRENCY} in flight)`,
    );
  });
});
