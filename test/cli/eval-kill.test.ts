/**
 * `keel eval run` killed with SIGKILL part way (a real child process, no chance to clean up), then run
 * again with the same `--run-dir`: every pair ends up scored exactly once, and only the pairs that were
 * in flight at the kill reach the model twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import type { MockUpstream } from '../helpers/mock-upstream.ts';
import { addDataset, keelEval, startWordsGateway, wordCases } from './eval-cli.ts';

const CASES = 30;
const CONCURRENCY = 3;
const bin = new URL('../../src/cli/bin.ts', import.meta.url).pathname;

describe('keel eval run: SIGKILL mid-run, then resume', () => {
  let upstream: MockUpstream;
  let gw: Gateway;
  let dir: string;

  before(async () => {
    ({ upstream, gw } = await startWordsGateway({ delayMs: 40 }));
    ({ dir } = await addDataset('words', wordCases(CASES)));
  });

  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = () => [
    'eval',
    'run',
    '--dataset',
    'words',
    '--root',
    join(dir, 'ds'),
    '--target',
    'route:main',
    '--scorers',
    'exact',
    '--concurrency',
    String(CONCURRENCY),
    '--run-dir',
    join(dir, 'run'),
    '--url',
    gw.url,
    '--no-progress',
  ];
  const results = () => {
    const file = join(dir, 'run', 'results.jsonl');
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
    const calledBeforeResume = upstream.received.length;

    const resumed = await keelEval(...args().slice(1));
    assert.equal(resumed.code, 0, resumed.err + resumed.out);
    const ids = results().map((l) => (JSON.parse(l) as { caseId: string }).caseId);
    assert.equal(new Set(ids).size, CASES, 'every case scored');
    assert.equal(ids.length, CASES, 'no case scored twice');
    // What the resume sent: every unscored case, and nothing that was already scored.
    assert.equal(upstream.received.length - calledBeforeResume, CASES - before);
    // Only pairs in flight at the kill reached the model twice.
    assert.ok(upstream.received.length <= CASES + CONCURRENCY, `${upstream.received.length} calls`);
    console.log(
      `killed after ${before}/${CASES} results; resume ran ${CASES - before}; model calls ${upstream.received.length} (≤ ${CASES} + ${CONCURRENCY} in flight)`,
    );
  });
});
