import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { caseFromReview, caseFromTrace } from '../../src/evals/converters.ts';
import { datasetVersion, parseDataset } from '../../src/evals/dataset.ts';
import { DatasetRegistry } from '../../src/evals/dataset-registry.ts';
import { KeelEvalError } from '../../src/evals/errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-evals-'));

const lines = [
  { id: 'a', input: { variables: { question: '2+2?' } }, expected: '4', tags: ['math'] },
  { id: 'b', input: { messages: [{ role: 'user', content: 'Capital of France?' }] }, expected: 'Paris' },
];
const jsonl = lines.map((l) => JSON.stringify(l)).join('\n');

test('parseDataset reads one case a line, skipping blank lines', () => {
  const cases = parseDataset(`${jsonl}\n\n`, 'x.jsonl');
  assert.deepEqual(
    cases.map((c) => c.id),
    ['a', 'b'],
  );
  assert.equal(cases[1]!.input.messages?.[0]?.content, 'Capital of France?');
});

test('parse errors name the source, line number and field of every bad line', () => {
  const text = [
    JSON.stringify(lines[0]),
    '{"id": "c", "input": {"messages": [{"role": "robot", "content": "hi"}]}}',
    '{not json',
    '{"id": "d", "input": {}, "expected": 5}',
    JSON.stringify({ ...lines[1], id: 'a' }),
  ].join('\n');
  assert.throws(
    () => parseDataset(text, 'golden.jsonl'),
    (error: unknown) => {
      assert.ok(error instanceof KeelEvalError);
      assert.equal(error.code, 'KEEL_EVAL_DATASET_INVALID');
      assert.match(error.message, /golden\.jsonl:2 input\.messages\[0\]\.role: must be one of/);
      assert.match(error.message, /golden\.jsonl:3: not valid JSON/);
      assert.match(error.message, /golden\.jsonl:4 input: needs `variables` or `messages`/);
      assert.match(error.message, /golden\.jsonl:4 expected: must be a string or an object/);
      assert.match(error.message, /golden\.jsonl:5 id: "a" is already used on line 1/);
      return true;
    },
  );
  assert.throws(
    () => parseDataset('{"id":"x","input":{"messages":[]},"extra":1}'),
    /dataset:1: Unrecognized key: "extra"/,
  );
  assert.throws(() => parseDataset('\n\n', 'empty.jsonl'), /empty\.jsonl: has no cases/);
});

test('the version is a 12-hex content hash that ignores key order and whitespace but not content', () => {
  const a = parseDataset(jsonl);
  const reordered = parseDataset(
    '{ "expected": "4", "tags": ["math"], "input": { "variables": { "question": "2+2?" } }, "id": "a" }\n' +
      JSON.stringify(lines[1]),
  );
  assert.match(datasetVersion(a), /^[0-9a-f]{12}$/);
  assert.equal(datasetVersion(reordered), datasetVersion(a));
  const changed = parseDataset(jsonl.replace('"4"', '"four"'));
  assert.notEqual(datasetVersion(changed), datasetVersion(a));
});

test('the registry stores immutable versions, dedupes identical content and resolves labels', () => {
  const root = tmp();
  const registry = new DatasetRegistry({ root });
  const file = join(root, 'in.jsonl');
  writeFileSync(file, jsonl);

  const first = registry.add('support', file);
  assert.equal(first.created, true);
  assert.equal(first.cases, 2);
  const again = registry.add('support', [...lines]);
  assert.deepEqual({ ...again, created: true }, first, 'same content from objects gives the same version');
  assert.equal(again.created, false);

  const stored = join(root, 'support', `${first.version}.jsonl`);
  const bytes = readFileSync(stored, 'utf8');
  const second = registry.add('support', [lines[0]]);
  assert.notEqual(second.version, first.version);
  assert.equal(readFileSync(stored, 'utf8'), bytes, 'an older version is never rewritten');

  assert.equal(registry.show('support').version, second.version, 'latest points at the last add');
  assert.equal(registry.show(`support@${first.version}`).cases.length, 2);
  registry.label('support', 'baseline', first.version);
  assert.equal(registry.show('support@baseline').version, first.version);

  const [summary] = registry.list();
  assert.equal(summary?.name, 'support');
  assert.deepEqual(
    summary?.versions.map((v) => [v.version, v.cases]),
    [
      [first.version, 2],
      [second.version, 1],
    ],
  );
  assert.deepEqual(summary?.labels, { latest: second.version, baseline: first.version });

  assert.throws(() => registry.show('support@nope'), /dataset "support" has no version or label "nope"/);
  assert.throws(() => registry.show('missing'), /dataset "missing" is not in/);
  assert.throws(() => registry.add('../evil', file), /dataset name "..\/evil" must be/);

  writeFileSync(stored, bytes.replace('Paris', 'Lyon'));
  assert.throws(() => registry.show(`support@${first.version}`), /content no longer matches its version/);
});

test('caseFromTrace takes the request messages as input and the answer as expected', () => {
  const trace = {
    id: 'req_1',
    route: 'support',
    feature: 'faq',
    request: { model: 'support', messages: [{ role: 'user', content: 'Reset my password' }] },
    response: { choices: [{ index: 0, message: { role: 'assistant', content: 'Go to Settings.' } }] },
  };
  const c = caseFromTrace(trace, { tags: ['regression'] });
  assert.deepEqual(c, {
    id: 'trace-req_1',
    input: { messages: [{ role: 'user', content: 'Reset my password' }] },
    expected: 'Go to Settings.',
    tags: ['trace', 'route:support', 'feature:faq', 'regression'],
  });
  assert.throws(
    () => caseFromTrace({ id: 'req_2', response: 'x' }),
    /trace req_2: request\.messages is missing/,
  );
  assert.throws(
    () => caseFromTrace({ id: 'req_3', request: trace.request, response: { choices: [] } }),
    /trace req_3: response has no answer text/,
  );
});

test('caseFromReview accepts text, messages or structured input and hashes a stable id', () => {
  const c = caseFromReview({
    input: 'Is shipping free?',
    expected: 'Over $50, yes.',
    context: 'Shipping policy…',
    tags: ['faq'],
  });
  assert.match(c.id, /^review-[0-9a-f]{12}$/);
  assert.deepEqual(c.input, { messages: [{ role: 'user', content: 'Is shipping free?' }] });
  assert.deepEqual(c.contexts, ['Shipping policy…']);
  assert.deepEqual(c.tags, ['review', 'faq']);
  assert.equal(caseFromReview({ input: 'Is shipping free?' }).id, c.id);
  const structured = caseFromReview({ id: 'r9', input: { variables: { q: 1 } }, expected: { answer: 1 } });
  assert.deepEqual(structured.input, { variables: { q: 1 } });
  const exported = caseFromReview({
    id: 'rv_1',
    input: { messages: [] },
    expected: 42,
    contexts: ['a', 'b'],
    tags: ['x'],
  });
  assert.equal(exported.expected, '42', 'a non-text, non-object answer becomes its JSON text');
  assert.deepEqual(exported.contexts, ['a', 'b']);
  assert.throws(() => caseFromReview({ expected: 'x' }), /review line input: must be a string, an array/);
});
