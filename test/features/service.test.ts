import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeatureConfigInput } from '../../src/features/config.ts';
import { decisionHeader } from '../../src/features/decision.ts';
import { FeatureError } from '../../src/features/errors.ts';
import { FeatureService, type FeatureServiceOptions } from '../../src/features/service.ts';
import { contentOf, FakePrompts, FakeReview, features, never, type Reply, ScriptedChat } from './fakes.ts';

const schema = {
  type: 'object',
  properties: { sentiment: { enum: ['positive', 'negative'] }, score: { type: 'number' } },
  required: ['sentiment', 'score'],
  additionalProperties: false,
};
const VALID = '{"sentiment":"positive","score":0.9}';
const WRONG_SHAPE = '{"sentiment":"meh","score":"high"}';

function setup(
  feature: Partial<FeatureConfigInput>,
  script: (route: string, n: number) => Reply,
  extra: Partial<FeatureServiceOptions> = {},
) {
  const prompts = new FakePrompts().add(
    'v1',
    { messages: [{ role: 'system', content: 'Classify: {{text}}' }], temperature: 0.7 },
    'production',
  );
  const chat = new ScriptedChat((route, _request, n) => script(route, n));
  const review = new FakeReview();
  const service = new FeatureService({
    features: features({
      sentiment: { prompt: { name: 'p' }, route: 'main', contract: { schema }, ...feature },
    }),
    prompts,
    chat,
    review,
    ...extra,
  });
  const call = (variables: Record<string, unknown> = { text: 'I love it' }, more = {}) =>
    service.call('sentiment', { variables, requestId: 'r1', ...more }, never());
  return { service, prompts, chat, review, call };
}

async function rejection(promise: Promise<unknown>): Promise<FeatureError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof FeatureError, `expected a FeatureError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('FeatureService: answers and the retry path', () => {
  it('passes a valid first answer, asking the provider for strict structured output', async () => {
    const { call, chat, prompts } = setup({}, () => VALID);
    const result = await call();
    assert.equal(result.status, 200);
    assert.equal(result.decision, 'pass');
    assert.deepEqual(result.output, { sentiment: 'positive', score: 0.9 });
    assert.equal(result.promptVersion, 'v1');
    assert.equal(decisionHeader(result.decision, result.path), 'pass; attempt:pass');
    assert.deepEqual(chat.calls[0]!.request.response_format, {
      type: 'json_schema',
      json_schema: { name: 'sentiment', schema, strict: true },
    });
    assert.equal(contentOf(chat.calls[0]!.request.messages[0]), 'Classify: I love it');
    assert.deepEqual(prompts.good, ['v1'], 'the version is marked known-good');
    assert.equal(contentOf(result.completion?.choices[0]?.message), VALID);
  });

  it('retries an invalid answer with the schema restated, the errors fed back and a lower temperature', async () => {
    const { call, chat, prompts } = setup({}, (_route, n) => ['not json at all', WRONG_SHAPE, VALID][n]!);
    const result = await call();
    assert.equal(result.decision, 'retry');
    assert.deepEqual(
      result.path.map((s) => [s.kind, s.validation?.kind ?? 'pass']),
      [
        ['attempt', 'not_json'],
        ['retry', 'schema'],
        ['retry', 'pass'],
      ],
    );
    assert.deepEqual(result.path[1]!.validation?.errors, [
      '/sentiment: must be one of "positive", "negative"',
      '/score: must be number',
    ]);
    assert.deepEqual(
      chat.calls.map((c) => c.request.temperature),
      [0.7, 0.2, 0],
    );
    const retry = chat.calls[2]!.request.messages;
    assert.ok(retry.some((m) => m.role === 'system' && contentOf(m).includes(JSON.stringify(schema))));
    assert.equal(contentOf(retry.at(-2)), WRONG_SHAPE, 'the rejected answer is shown to the model');
    assert.match(contentOf(retry.at(-1)), /\/score: must be number/);
    assert.equal(result.costUsd, 0.003);
    assert.deepEqual(prompts.failed, ['v1', 'v1'], 'each invalid answer is reported against its version');
  });

  it('narrows the context of a retry to the system messages and the last messages', async () => {
    const history = Array.from({ length: 8 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `turn ${i}`,
    }));
    const { service, chat } = setup({}, (_route, n) => (n === 0 ? 'nope' : VALID));
    await service.call('sentiment', { variables: { text: 'x' }, messages: history, requestId: 'r' }, never());
    const first = chat.calls[0]!.request.messages.map(contentOf);
    const retry = chat.calls[1]!.request.messages.map(contentOf);
    assert.ok(first.includes('turn 0'));
    assert.ok(!retry.includes('turn 3') && !retry.includes('turn 0'), 'older turns are dropped');
    for (const kept of ['Classify: x', 'turn 4', 'turn 5', 'turn 6', 'turn 7'])
      assert.ok(retry.includes(kept));
  });

  it('never returns an invalid answer: with no fallback declared the call fails with its path', async () => {
    const { call, chat } = setup({ retries: 1 }, () => WRONG_SHAPE);
    const err = await rejection(call());
    assert.equal(err.code, 'KEEL_FEATURE_FAILED');
    assert.equal(err.status, 502);
    assert.deepEqual(
      err.path.map((s) => s.kind),
      ['attempt', 'retry'],
    );
    assert.equal(chat.calls.length, 2);
  });

  it('a route that fails is not retried with the schema: it goes straight to the fallbacks', async () => {
    const down = Object.assign(new Error('every target failed'), { code: 'KEEL_ALL_TARGETS_FAILED' });
    const { call } = setup({ fallback: [{ route: 'safe' }] }, (route) => (route === 'main' ? down : VALID));
    const result = await call();
    assert.deepEqual(
      result.path.map((s) => `${s.kind}:${s.via ?? ''}:${s.ok}`),
      ['attempt::false', 'fallback:route:true'],
    );
    assert.equal(result.path[0]!.error?.code, 'KEEL_ALL_TARGETS_FAILED');
    assert.equal(result.route, 'safe');
  });
});

describe('FeatureService: fallbacks in declared order', () => {
  const all = [
    { route: 'safe' },
    { cached: true as const },
    { clarify: 'Which product do you mean?' },
    { escalate: true as const },
  ];

  it('route, then cached, then clarify: the first that answers wins', async () => {
    const { call, chat } = setup({ fallback: all }, () => WRONG_SHAPE);
    const result = await call();
    assert.equal(result.status, 200);
    assert.equal(result.decision, 'fallback');
    assert.equal(result.answeredBy, 'clarify');
    assert.equal(result.output, 'Which product do you mean?');
    assert.deepEqual(
      result.path.map((s) => `${s.kind}${s.via ? `-${s.via}` : ''}:${s.ok}`),
      [
        'attempt:false',
        'retry:false',
        'retry:false',
        'fallback-route:false',
        'fallback-cached:false',
        'fallback-clarify:true',
      ],
    );
    assert.deepEqual(
      chat.calls.map((c) => c.route),
      ['main', 'main', 'main', 'safe'],
    );
  });

  it('a safer route answers when its answer is valid', async () => {
    const { call } = setup({ fallback: all }, (route) => (route === 'safe' ? VALID : WRONG_SHAPE));
    const result = await call();
    assert.equal(result.answeredBy, 'model');
    assert.equal(result.route, 'safe');
    assert.equal(result.decision, 'fallback');
    assert.deepEqual(result.output, { sentiment: 'positive', score: 0.9 });
  });

  it('the cached last valid answer for the same input, and only the same input', async () => {
    let broken = false;
    const { call } = setup({ fallback: [{ cached: true }, { escalate: true }] }, () =>
      broken ? WRONG_SHAPE : VALID,
    );
    await call({ text: 'I love it' });
    broken = true;
    const cached = await call({ text: 'I love it' });
    assert.equal(cached.answeredBy, 'cached');
    assert.equal(cached.status, 200);
    assert.deepEqual(cached.output, { sentiment: 'positive', score: 0.9 });
    const other = await call({ text: 'something else' });
    assert.equal(other.answeredBy, 'escalate', 'another input has no cached answer');
  });

  it('a cached answer that no longer satisfies the contract is not returned', async () => {
    let broken = false;
    const { call, service } = setup({ retries: 0, fallback: [{ cached: true }] }, () =>
      broken ? WRONG_SHAPE : VALID,
    );
    await call();
    broken = true;
    const stricter = { ...schema, required: [...schema.required, 'reason'] };
    service.replace(
      features({
        sentiment: {
          prompt: { name: 'p' },
          route: 'main',
          contract: { schema: stricter },
          retries: 0,
          fallback: [{ cached: true }],
        },
      }),
    );
    const err = await rejection(call());
    assert.deepEqual(err.path.at(-1)?.why, 'the stored answer no longer satisfies the contract');
  });

  it('escalation: a 202 with the review id, and the reviewer sees the last answer and its errors', async () => {
    const { call, review } = setup({ retries: 0, fallback: [{ escalate: true }] }, () => WRONG_SHAPE);
    const result = await call();
    assert.equal(result.status, 202);
    assert.equal(result.reviewId, 'rev_1');
    assert.equal(result.output, null);
    assert.equal(result.completion, undefined);
    const item = review.items[0]!;
    assert.equal(item.feature, 'sentiment');
    assert.equal(item.lastAnswer, WRONG_SHAPE);
    assert.deepEqual(item.validationErrors, [
      '/sentiment: must be one of "positive", "negative"',
      '/score: must be number',
    ]);
    assert.deepEqual(item.input.variables, { text: 'I love it' });
  });

  it('an invalid answer is never cached: the cache fallback misses after failures only', async () => {
    const { call } = setup({ retries: 0, fallback: [{ cached: true }] }, () => WRONG_SHAPE);
    await rejection(call());
    const err = await rejection(call());
    assert.equal(err.path.at(-1)?.via, 'cached');
    assert.equal(err.path.at(-1)?.ok, false);
  });
});

describe('FeatureService: prompt versions', () => {
  it('a labelled version that cannot be rendered falls back to the last known-good version', async () => {
    const { call, prompts, chat } = setup({}, () => VALID);
    prompts.add('v2', { messages: [{ role: 'system', content: 'new' }], broken: true }, 'production');
    prompts.good.push('v1');
    const result = await call();
    assert.equal(result.promptVersion, 'v1');
    assert.equal(result.decision, 'fallback');
    assert.equal(result.path[0]!.via, 'last_known_good');
    assert.match(
      result.path[0]!.why,
      /version v2 of p:production cannot be rendered: template of v2 is broken/,
    );
    assert.equal(contentOf(chat.calls[0]!.request.messages[0]), 'Classify: I love it');
  });

  it('with no known-good version the render error itself reaches the caller', async () => {
    const { call, prompts } = setup({}, () => VALID);
    prompts.add('v2', { messages: [{ role: 'system', content: 'Hi {{name}}' }] }, 'production');
    await assert.rejects(call({ text: 'x' }), /variables\.name: required variable is missing/);
  });

  it('a label that points nowhere, with no known-good version, is a 503 naming the prompt', async () => {
    const { call, prompts } = setup({}, () => VALID);
    prompts.labels.delete('production');
    const err = await rejection(call());
    assert.equal(err.code, 'KEEL_PROMPT_UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.match(err.message, /prompt p has no label "production" and no known-good version/);
  });

  it('a label that points nowhere falls back to the last known-good version when there is one', async () => {
    const { call, prompts } = setup({}, () => VALID);
    prompts.labels.delete('production');
    prompts.good.push('v1');
    const result = await call();
    assert.equal(result.promptVersion, 'v1');
    assert.match(result.path[0]!.why, /has no label "production"; using the last known-good version v1/);
  });

  it('answers of a new version that keep failing: the last known-good version is tried once', async () => {
    const { call, prompts } = setup({ retries: 1 }, (_route, n) => (n < 2 ? WRONG_SHAPE : VALID));
    prompts.add('v2', { messages: [{ role: 'system', content: 'v2 {{text}}' }] }, 'production');
    prompts.good.push('v1');
    const result = await call();
    assert.equal(result.promptVersion, 'v1');
    assert.deepEqual(
      result.path.map((s) => [s.kind, s.via ?? '', s.promptVersion]),
      [
        ['attempt', '', 'v2'],
        ['retry', '', 'v2'],
        ['fallback', 'last_known_good', 'v1'],
      ],
    );
  });
});

describe('FeatureService: requests', () => {
  it('an unknown feature is a 404 naming the declared ones', async () => {
    const { service } = setup({}, () => VALID);
    await assert.rejects(service.call('nope', { requestId: 'r' }, never()), (err: FeatureError) => {
      assert.equal(err.code, 'KEEL_FEATURE_NOT_FOUND');
      assert.equal(err.status, 404);
      assert.match(err.message, /"sentiment"/);
      return true;
    });
  });

  it('stops at the caller’s abort: no retry, no fallback after it', async () => {
    const controller = new AbortController();
    const { service, chat } = setup({ fallback: [{ route: 'safe' }] }, () => {
      controller.abort(new Error('client went away'));
      return WRONG_SHAPE;
    });
    await assert.rejects(
      service.call('sentiment', { variables: { text: 'x' }, requestId: 'r' }, controller.signal),
      /client went away/,
    );
    assert.equal(chat.calls.length, 1);
  });

  it('a text contract accepts any non-empty answer and retries an empty one', async () => {
    const { call } = setup({ contract: 'text' }, (_route, n) => (n === 0 ? '  ' : 'Positive.'));
    const result = await call();
    assert.equal(result.output, 'Positive.');
    assert.equal(result.path[0]!.validation?.kind, 'empty');
  });

  it('an inline prompt renders without the registry and has a content-hash version', async () => {
    const { service, chat } = setup({}, () => VALID);
    service.replace(
      features({
        inline: {
          messages: [{ role: 'system', content: 'Rate: {{text}}' }],
          route: 'main',
          contract: { schema },
        },
      }),
    );
    const result = await service.call('inline', { variables: { text: 'ok' }, requestId: 'r' }, never());
    assert.match(result.promptVersion, /^inline-[0-9a-f]{12}$/);
    assert.equal(contentOf(chat.calls[0]!.request.messages[0]), 'Rate: ok');
  });
});
