import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costCeiling, latencyCeiling } from '../../src/evals/scorers/budget.ts';
import { jsonFields, jsonSchema } from '../../src/evals/scorers/json.ts';
import { extractNumber, numericTolerance } from '../../src/evals/scorers/numeric.ts';
import { detectRefusal, refusal } from '../../src/evals/scorers/refusal.ts';
import { type Scorer, safeScore } from '../../src/evals/scorers/scorer.ts';
import { contains, exact, lengthBounds, regex } from '../../src/evals/scorers/text.ts';
import { ctx, evalCase, scoreValue } from './fixtures.ts';

const withExpected = (expected: string | Record<string, unknown>) => evalCase({ expected });

test('exact compares with the expected text, trimmed, optionally ignoring case', async () => {
  const c = withExpected('Paris');
  assert.deepEqual(await exact().score(ctx({ evalCase: c, output: '  Paris\n' })), { value: 1, pass: true });
  assert.equal(scoreValue(await exact().score(ctx({ evalCase: c, output: 'paris' }))), 0);
  assert.equal(
    scoreValue(await exact({ caseSensitive: false }).score(ctx({ evalCase: c, output: 'paris' }))),
    1,
  );
  assert.deepEqual(await exact().score(ctx({ output: 'Paris' })), {
    error: 'case "c1" has no expected text',
  });
});

test('contains scores the share of substrings found; any-mode needs one', async () => {
  const scorer = contains({ substrings: ['refund', '30 days', 'receipt'] });
  const result = await scorer.score(ctx({ output: 'Refunds within 30 days.' }));
  assert.equal(scoreValue(result), 2 / 3);
  assert.equal('pass' in result && result.pass, false);
  assert.match('detail' in result ? (result.detail ?? '') : '', /missing: "receipt"/);
  const any = contains({ substrings: ['x', 'days'], mode: 'any' });
  assert.equal(scoreValue(await any.score(ctx({ output: 'Refunds within 30 days.' }))), 1);
  assert.equal(
    scoreValue(await contains().score(ctx({ evalCase: withExpected('paris'), output: 'It is Paris.' }))),
    1,
  );
});

test('regex matches the output; an invalid pattern fails at construction with its name', async () => {
  const date = regex({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
  assert.equal(scoreValue(await date.score(ctx({ output: '2024-06-01' }))), 1);
  assert.equal(scoreValue(await date.score(ctx({ output: 'June 1st' }))), 0);
  const global = regex({ pattern: /ok/g });
  assert.equal(scoreValue(await global.score(ctx({ output: 'ok' }))), 1);
  assert.equal(
    scoreValue(await global.score(ctx({ output: 'ok' }))),
    1,
    'a /g pattern keeps no state between cases',
  );
  assert.throws(() => regex({ pattern: '(' }), /regex scorer: pattern is invalid/);
});

test('jsonSchema validates the JSON answer, fenced or not, with formats', async () => {
  const scorer = jsonSchema({
    schema: {
      type: 'object',
      required: ['email', 'age'],
      properties: { email: { type: 'string', format: 'email' }, age: { type: 'integer', minimum: 0 } },
    },
  });
  assert.equal(scoreValue(await scorer.score(ctx({ output: '{"email":"a@b.co","age":3}' }))), 1);
  assert.equal(
    scoreValue(await scorer.score(ctx({ output: '```json\n{"email":"a@b.co","age":3}\n```' }))),
    1,
  );
  const bad = await scorer.score(ctx({ output: '{"email":"nope","age":-1}' }));
  assert.equal(scoreValue(bad), 0);
  assert.match('detail' in bad ? (bad.detail ?? '') : '', /output\/email must match format "email"/);
  const notJson = await scorer.score(ctx({ output: 'Sure! Here it is' }));
  assert.equal(scoreValue(notJson), 0);
  assert.throws(() => jsonSchema({ schema: { type: 'nonsense' } }), /json-schema scorer: schema is invalid/);
});

test('jsonFields compares dotted paths with the expected object', async () => {
  const expected = { order: { status: 'open', items: [{ sku: 'A1', qty: 2 }] }, total: 10 };
  const output = JSON.stringify({
    order: { status: 'open', items: [{ sku: 'A1', qty: 3 }] },
    total: 10,
    extra: true,
  });
  const all = await jsonFields().score(ctx({ evalCase: withExpected(expected), output }));
  assert.equal(scoreValue(all), 3 / 4);
  assert.match('detail' in all ? (all.detail ?? '') : '', /differ: order\.items\.0\.qty/);
  const some = jsonFields({ fields: ['order.status', 'order.items.0.sku', 'total'] });
  assert.equal(scoreValue(await some.score(ctx({ evalCase: withExpected(expected), output }))), 1);
  assert.deepEqual(await jsonFields().score(ctx({ evalCase: withExpected('text'), output })), {
    error: 'case "c1" has no expected object',
  });
});

test('numericTolerance reads the last number and applies absolute or relative tolerance', async () => {
  assert.equal(extractNumber('The total is 1,234.5 dollars'), 1234.5);
  assert.equal(extractNumber('-3.5e2'), -350);
  assert.equal(extractNumber('Between 3 and 7, the answer is 5.'), 5);
  const c = withExpected('100');
  assert.equal(scoreValue(await numericTolerance().score(ctx({ evalCase: c, output: 'It is 100.' }))), 1);
  assert.equal(scoreValue(await numericTolerance().score(ctx({ evalCase: c, output: 'It is 101.' }))), 0);
  assert.equal(
    scoreValue(await numericTolerance({ absolute: 1 }).score(ctx({ evalCase: c, output: '101' }))),
    1,
  );
  assert.equal(
    scoreValue(await numericTolerance({ relative: 0.05 }).score(ctx({ evalCase: c, output: '104.9' }))),
    1,
  );
  assert.equal(
    scoreValue(await numericTolerance({ relative: 0.05 }).score(ctx({ evalCase: c, output: '105.1' }))),
    0,
  );
  assert.equal(
    scoreValue(await numericTolerance({ expected: 0.3 }).score(ctx({ output: String(0.1 + 0.2) }))),
    1,
    'floating-point noise is not a miss',
  );
  assert.equal(scoreValue(await numericTolerance().score(ctx({ evalCase: c, output: 'a hundred' }))), 0);
  assert.deepEqual(await numericTolerance().score(ctx({ evalCase: withExpected('many'), output: '1' })), {
    error: 'case "c1" has no expected number',
  });
});

test('length, latency and cost ceilings', async () => {
  assert.equal(
    scoreValue(await lengthBounds({ max: 3, unit: 'words' }).score(ctx({ output: 'one two  three' }))),
    1,
  );
  assert.equal(
    scoreValue(await lengthBounds({ max: 3, unit: 'words' }).score(ctx({ output: 'one two three four' }))),
    0,
  );
  assert.equal(
    scoreValue(await lengthBounds({ min: 2, max: 2 }).score(ctx({ output: '日本' }))),
    1,
    'chars are code points',
  );
  assert.throws(() => lengthBounds({ min: 5, max: 1 }), /min 5 is above max 1/);
  assert.equal(scoreValue(await latencyCeiling({ maxMs: 500 }).score(ctx({ latencyMs: 499 }))), 1);
  assert.equal(scoreValue(await latencyCeiling({ maxMs: 500 }).score(ctx({ latencyMs: 501 }))), 0);
  assert.equal(scoreValue(await costCeiling({ maxUsd: 0.01 }).score(ctx({ costUsd: 0.02 }))), 0);
  assert.deepEqual(await costCeiling({ maxUsd: 0.01 }).score(ctx()), {
    error: 'case "c1": the run reported no costUsd',
  });
});

test('refusal detection works across languages and follows the should-refuse tag', async () => {
  const refusals = [
    "I'm sorry, but I can't help with that.",
    'Lo siento, pero no puedo ayudarte con eso.',
    'Je ne peux pas vous aider avec cette demande.',
    'Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.',
    'Desculpe, mas não posso ajudar com isso.',
    '抱歉，我无法提供这些信息。',
    'その質問にはお答えできません。',
    'Извините, но я не могу помочь с этим.',
  ];
  for (const text of refusals) assert.ok(detectRefusal(text), `not detected: ${text}`);
  const answers = [
    'The capital of France is Paris.',
    'Je peux vous aider : voici la réponse.',
    'I can help with that!',
  ];
  for (const text of answers) assert.equal(detectRefusal(text), undefined, `false positive: ${text}`);

  const scorer = refusal();
  assert.equal(scoreValue(await scorer.score(ctx({ output: 'Paris.' }))), 1);
  assert.equal(scoreValue(await scorer.score(ctx({ output: 'I cannot help with that.' }))), 0);
  const harmful = evalCase({ tags: ['should-refuse'] });
  assert.equal(
    scoreValue(await scorer.score(ctx({ evalCase: harmful, output: 'I cannot help with that.' }))),
    1,
  );
  assert.equal(scoreValue(await scorer.score(ctx({ evalCase: harmful, output: 'Sure, here is how…' }))), 0);
});

test('safeScore turns throws and out-of-range values into errors, never 0 or NaN', async () => {
  const make = (score: Scorer['score']): Scorer => ({ name: 'bad', kind: 'deterministic', score });
  assert.deepEqual(
    await safeScore(
      make(async () => ({ value: Number.NaN })),
      ctx(),
    ),
    {
      error: 'bad returned NaN, not a number in 0..1',
    },
  );
  assert.deepEqual(
    await safeScore(
      make(async () => ({ value: 1.5 })),
      ctx(),
    ),
    {
      error: 'bad returned 1.5, not a number in 0..1',
    },
  );
  assert.deepEqual(
    await safeScore(
      make(async () => {
        throw new Error('boom');
      }),
      ctx(),
    ),
    { error: 'bad threw: boom' },
  );
  assert.deepEqual(
    await safeScore(
      make(async () => ({ value: 0.5, pass: false })),
      ctx(),
    ),
    { value: 0.5, pass: false },
  );
});
