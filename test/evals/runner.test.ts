import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EvalCase } from '../../src/evals/case.ts';
import { KeelEvalError } from '../../src/evals/errors.ts';
import { loadRun } from '../../src/evals/run-files.ts';
import { type InvokeFn, runEval } from '../../src/evals/runner.ts';
import type { Scorer } from '../../src/evals/scorers/scorer.ts';
import { exact } from '../../src/evals/scorers/text.ts';

const cases: EvalCase[] = Array.from({ length: 10 }, (_, i) => ({
  id: `case-${i}`,
  input: { variables: { n: i } },
  expected: `answer-${i}`,
}));
const dataset = { name: 'toy', cases };
const tmp = () => mkdtempSync(join(tmpdir(), 'keel-evals-run-'));

/** Resolves on the next turn of the event loop, or rejects when the signal aborts first. */
function tick(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setImmediate(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    const onAbort = () => {
      clearImmediate(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A target that answers right on even repeats of even cases and wrong otherwise. */
const invoke: InvokeFn = async (c, repeat, { signal }) => {
  await tick(signal);
  const i = Number(c.id.split('-')[1]);
  return {
    output: i % 2 === 0 && repeat % 2 === 0 ? `answer-${i}` : 'wrong',
    latencyMs: 10 + i,
    costUsd: 0.001,
  };
};

/** A scorer that counts how often each (case, repeat) pair is scored. */
function countingScorer(): Scorer & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const inner = exact();
  return {
    name: 'exact',
    kind: 'deterministic',
    counts,
    async score(ctx) {
      const key = `${ctx.evalCase.id}#${ctx.output === 'wrong' ? 'w' : 'r'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return inner.score(ctx);
    },
  };
}

function resultLines(runDir: string): Array<{ caseId: string; repeat: number }> {
  return readFileSync(join(runDir, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

test('an aborted run resumes: every (case, repeat) pair is invoked and scored exactly once', async () => {
  const runDir = tmp();
  const finished = new Map<string, number>();
  const scored = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  // The output carries its repeat so the scorer can tell which pair it scores.
  const tagged: InvokeFn = async (c, repeat, options) => {
    const result = await invoke(c, repeat, options);
    bump(finished, `${c.id}/${repeat}`);
    return { ...result, output: `${result.output}|${repeat}` };
  };
  const pairScorer: Scorer = {
    name: 'exact',
    kind: 'deterministic',
    async score(ctx) {
      const [output, repeat] = ctx.output.split('|');
      bump(scored, `${ctx.evalCase.id}/${repeat}`);
      return exact().score({ ...ctx, output: output! });
    },
  };
  const options = {
    dataset,
    target: 'toy-model',
    invoke: tagged,
    scorers: [pairScorer],
    repeat: 3,
    concurrency: 3,
    runDir,
  };

  const controller = new AbortController();
  const K = 7;
  const first = await runEval({
    ...options,
    signal: controller.signal,
    onProgress: ({ done }) => {
      if (done === K) controller.abort(new Error('simulated kill'));
    },
  });
  assert.equal(first.aborted, true);
  assert.ok(first.completed >= K && first.completed < 30, `first session finished ${first.completed} pairs`);
  assert.equal(resultLines(runDir).length, first.completed, 'every finished pair is on disk');

  const second = await runEval(options);
  assert.equal(second.aborted, false);
  assert.equal(second.skipped, first.completed);
  assert.equal(second.completed, 30 - first.completed);
  assert.equal(second.results.length, 30);

  const expectedKeys = cases.flatMap((c) => [0, 1, 2].map((r) => `${c.id}/${r}`)).sort();
  assert.deepEqual([...scored.keys()].sort(), expectedKeys, 'every pair scored');
  assert.deepEqual(
    [...scored].filter(([, n]) => n !== 1),
    [],
    'no pair scored twice',
  );
  assert.deepEqual(
    [...finished].filter(([, n]) => n !== 1),
    [],
    'invocations cut short by the abort are redone; none finishes twice',
  );
  const lines = resultLines(runDir);
  assert.deepEqual(lines.map((l) => `${l.caseId}/${l.repeat}`).sort(), expectedKeys, 'one line per pair');
});

test('a results line cut short by a crash is dropped and its pair redone', async () => {
  const runDir = tmp();
  const scorer = countingScorer();
  const controller = new AbortController();
  const options = { dataset, target: 't', invoke, scorers: [scorer], repeat: 1, concurrency: 1, runDir };
  await runEval({
    ...options,
    signal: controller.signal,
    onProgress: ({ done }) => done === 4 && controller.abort(),
  });
  assert.equal(resultLines(runDir).length, 4);
  appendFileSync(join(runDir, 'results.jsonl'), '{"caseId":"case-4","repeat":0,"outp');
  const resumed = await runEval(options);
  assert.equal(resumed.completed, 6);
  assert.equal(resultLines(runDir).length, 10, 'the torn line is gone and every pair is recorded once');
  assert.equal(readFileSync(join(runDir, 'results.jsonl'), 'utf8').endsWith('\n'), true);
});

test('run.json records the config; a different run in the same runDir is refused', async () => {
  const runDir = tmp();
  await runEval({ dataset, target: 'model-a', invoke, scorers: [exact()], repeat: 2, runDir });
  const { config, results } = loadRun(runDir);
  assert.equal(config.dataset.name, 'toy');
  assert.match(config.dataset.version, /^[0-9a-f]{12}$/);
  assert.equal(config.target, 'model-a');
  assert.deepEqual(config.scorers, [{ name: 'exact', kind: 'deterministic' }]);
  assert.equal(config.repeat, 2);
  assert.equal(results.length, 20);
  const right = results.filter((r) => 'value' in r.scores.exact! && r.scores.exact.value === 1).length;
  assert.equal(right, 5, 'even cases on repeat 0 only');

  await assert.rejects(
    runEval({ dataset, target: 'model-b', invoke, scorers: [exact()], repeat: 2, runDir }),
    (error: unknown) =>
      error instanceof KeelEvalError &&
      error.code === 'KEEL_EVAL_RUN_MISMATCH' &&
      /target "model-a" ≠ "model-b"/.test(error.message),
  );
  await assert.rejects(
    runEval({ dataset, target: 'model-a', invoke, scorers: [exact(), exact()], repeat: 2, runDir: tmp() }),
    /scorers: names must be unique \(repeated: exact\)/,
  );
});

test('concurrency bounds the pairs in flight', async () => {
  let inFlight = 0;
  let peak = 0;
  const slow: InvokeFn = async (c, repeat, options) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await tick(options.signal);
    await tick(options.signal);
    inFlight--;
    return invoke(c, repeat, options);
  };
  const summary = await runEval({
    dataset,
    target: 't',
    invoke: slow,
    scorers: [exact()],
    repeat: 2,
    concurrency: 3,
    runDir: tmp(),
  });
  assert.equal(summary.completed, 20);
  assert.equal(peak, 3);
});

test('a failed invocation is recorded with errored scores; rerunErrors retries it on resume', async () => {
  const runDir = tmp();
  let failing = true;
  const flaky: InvokeFn = async (c, repeat, options) => {
    if (failing && c.id === 'case-3') throw new Error('upstream 503');
    return invoke(c, repeat, options);
  };
  const options = { dataset, target: 't', invoke: flaky, scorers: [exact()], runDir };
  const first = await runEval(options);
  const failed = first.results.find((r) => r.caseId === 'case-3');
  assert.equal(failed?.error, 'upstream 503');
  assert.deepEqual(failed?.scores.exact, { error: 'invoke failed: upstream 503' });

  failing = false;
  assert.equal((await runEval(options)).completed, 0, 'a plain resume keeps the failure');
  const retried = await runEval({ ...options, rerunErrors: true });
  assert.equal(retried.completed, 1);
  assert.equal(
    loadRun(runDir).results.find((r) => r.caseId === 'case-3')?.error,
    undefined,
    'the newer line wins',
  );
});

test('a complete last line without its newline is kept, and a wrong dataset version is refused', async () => {
  const runDir = tmp();
  const controller = new AbortController();
  const options = { dataset, target: 't', invoke, scorers: [exact()], concurrency: 1, runDir };
  await runEval({
    ...options,
    signal: controller.signal,
    onProgress: ({ done }) => done === 3 && controller.abort(),
  });
  const file = join(runDir, 'results.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\n$/, ''));
  const resumed = await runEval(options);
  assert.equal(resumed.skipped, 3);
  assert.equal(resultLines(runDir).length, 10);

  await assert.rejects(
    runEval({ ...options, dataset: { ...dataset, version: '000000000000' }, runDir: tmp() }),
    /dataset\.version 000000000000 does not match its cases \(their version is [0-9a-f]{12}\)/,
  );
});
