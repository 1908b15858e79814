/** The `--scorers` list: how it splits, what each entry builds, and the errors a user sees. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildScorers, defaultScorerList, parseScorerList } from '../../src/cli/eval-scorers.ts';
import type { EvalCase, Scorer } from '../../src/evals/index.ts';

const evalCase: EvalCase = {
  id: 'c',
  input: { messages: [{ role: 'user', content: 'hi' }] },
  expected: 'Hello, 42',
};

const numberCase: EvalCase = { id: 'n', input: { variables: { q: 'six times seven' } }, expected: '42' };

/** A score's value, or its error as text (so a mismatch shows why). */
async function score(
  scorer: Scorer,
  output: string,
  extra: Partial<{ latencyMs: number; costUsd: number; evalCase: EvalCase }> = {},
): Promise<number | string> {
  const result = await scorer.score({ evalCase, output, ...extra, latencyMs: extra.latencyMs ?? 10 });
  return 'error' in result ? result.error : result.value;
}

function build(list: string): Scorer[] {
  return buildScorers(parseScorerList(list), {});
}

describe('--scorers', () => {
  it('splits on commas only where a scorer name follows, so arguments may hold commas', () => {
    assert.deepEqual(parseScorerList('exact, regex=^\\d{1,3}$,contains=a|b,latency=2000'), [
      { metric: 'exact', scorer: 'exact' },
      { metric: 'regex', scorer: 'regex', arg: '^\\d{1,3}$' },
      { metric: 'contains', scorer: 'contains', arg: 'a|b' },
      { metric: 'latency', scorer: 'latency', arg: '2000' },
    ]);
    assert.deepEqual(
      parseScorerList('rubric=polite, short and right,exact').map((s) => s.arg ?? s.scorer),
      ['polite, short and right', 'exact'],
    );
  });

  it('a repeated scorer gets a numbered metric name', () => {
    assert.deepEqual(
      parseScorerList('contains=refund,contains=days').map((s) => s.metric),
      ['contains', 'contains-2'],
    );
  });

  it('names unknown scorers with the valid ones, and missing or extra arguments', () => {
    assert.throws(
      () => parseScorerList('exact,bleu'),
      /unknown scorer "bleu"; valid: exact, contains, regex, json-schema/,
    );
    assert.throws(
      () => parseScorerList('regex'),
      /regex needs an argument: regex=PATTERN or regex=\/PATTERN\/FLAGS/,
    );
    assert.throws(() => parseScorerList('exact=yes'), /exact takes no argument \(got "exact=yes"\)/);
    assert.throws(() => parseScorerList('exact,,refusal'), /empty entry/);
    assert.throws(() => build('latency=fast'), /latency=fast: expected milliseconds \(a number ≥ 0\)/);
    assert.throws(() => build('length=ten'), /length=ten: expected MIN-MAX/);
    assert.throws(() => build('regex=(unclosed'), /regex: invalid pattern "\(unclosed"/);
    assert.throws(
      () => build('faithfulness,answer-relevancy'),
      /faithfulness needs --judge-route ROUTE; answer-relevancy needs --judge-route ROUTE and --embed-route ROUTE/,
    );
  });

  it('builds scorers that score as their arguments say', async () => {
    const [regex, numeric, relative, length, latency, cost] = build(
      'regex=/^hello/i,numeric=1,numeric=5%,length=3-8,latency=100,cost=0.01',
    );
    assert.equal(await score(regex!, 'HELLO there'), 1);
    assert.equal(await score(numeric!, 'it is 43', { evalCase: numberCase }), 1);
    assert.equal(await score(numeric!, 'it is 44', { evalCase: numberCase }), 0);
    assert.equal(await score(relative!, 'it is 44', { evalCase: numberCase }), 1);
    assert.equal(await score(length!, 'abcdefghi'), 0);
    assert.equal(await score(latency!, 'x', { latencyMs: 150 }), 0);
    assert.equal(await score(cost!, 'x'), 'case "c": the run reported no costUsd');
    assert.equal(numeric!.name, 'numeric');
    assert.equal(relative!.name, 'numeric-2');
  });

  it('json-schema reads a schema file, naming a missing or invalid one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-eval-scorers-'));
    try {
      writeFileSync(join(dir, 'schema.json'), '{"type":"object","required":["n"]}');
      writeFileSync(join(dir, 'broken.json'), '{"type":');
      const [schema] = build(`json-schema=${join(dir, 'schema.json')}`);
      assert.equal(await score(schema!, '{"n": 1}'), 1);
      assert.equal(await score(schema!, '{"m": 1}'), 0);
      assert.throws(() => build(`json-schema=${join(dir, 'broken.json')}`), /broken\.json is not JSON/);
      assert.throws(
        () => build(`json-schema=${join(dir, 'nope.json')}`),
        /json-schema: cannot read .*nope\.json/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('defaults: exact for expected text, json-fields for expected objects, refusal without expected', () => {
    const withText: EvalCase = { id: 'a', input: { variables: {} }, expected: 'x' };
    const withObject: EvalCase = { id: 'b', input: { variables: {} }, expected: { x: 1 } };
    const bare: EvalCase = { id: 'c', input: { variables: {} } };
    assert.equal(defaultScorerList([withText, bare]), 'exact');
    assert.equal(defaultScorerList([withObject]), 'json-fields');
    assert.equal(defaultScorerList([bare]), 'refusal');
  });
});
