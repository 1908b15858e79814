import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeatureConfigInput } from '../../src/features/config.ts';
import { FeatureError } from '../../src/features/errors.ts';
import type { FeatureInput, InputVerdict, OutputVerdict } from '../../src/features/ports.ts';
import { FeatureService } from '../../src/features/service.ts';
import { contentOf, FakeGuards, FakePrompts, features, never, ScriptedChat } from './fakes.ts';

const EMAIL = 'ada@example.com';

/** Replaces the email in the variables with a placeholder, like a PII guard would. */
const redactEmail = (input: FeatureInput): InputVerdict => ({
  action: 'redact',
  input: { ...input, variables: { text: String(input.variables.text).replace(EMAIL, '<EMAIL_1>') } },
  placeholders: { '<EMAIL_1>': EMAIL },
  findings: [{ guard: 'pii', detail: 'email' }],
});

function setup(
  feature: Partial<FeatureConfigInput>,
  reply: string,
  onInput?: (input: FeatureInput) => InputVerdict,
  onOutput?: (text: string) => OutputVerdict,
) {
  const prompts = new FakePrompts().add(
    'v1',
    { messages: [{ role: 'user', content: '{{text}}' }] },
    'production',
  );
  const chat = new ScriptedChat(() => reply);
  const guards = new FakeGuards(onInput, onOutput);
  const service = new FeatureService({
    features: features({
      reply: { prompt: { name: 'p' }, route: 'main', guards: { pii: 'redact' }, ...feature },
    }),
    prompts,
    chat,
    guards,
  });
  const call = () =>
    service.call('reply', { variables: { text: `Write to ${EMAIL}` }, requestId: 'r' }, never());
  return { service, chat, guards, call, prompts };
}

describe('FeatureService: guards', () => {
  it('an input block is a typed error with the guard’s status, and no model is called', async () => {
    const { call, chat, guards } = setup({}, 'hi', () => ({
      action: 'block',
      guard: 'injection',
      reason: 'instruction override',
      status: 403,
    }));
    await assert.rejects(call(), (err: FeatureError) => {
      assert.ok(err instanceof FeatureError);
      assert.equal(err.code, 'KEEL_GUARD_BLOCKED');
      assert.equal(err.status, 403);
      assert.equal(err.guard, 'injection');
      assert.match(err.message, /injection: instruction override/);
      return true;
    });
    assert.equal(chat.calls.length, 0);
    assert.deepEqual(guards.contexts[0]!.spec, { pii: 'redact' }, 'the feature’s guards section is passed');
  });

  it('redaction: the model sees placeholders, the caller gets the original back', async () => {
    const { call, chat } = setup({}, 'Sent to <EMAIL_1>.', redactEmail);
    const result = await call();
    assert.equal(contentOf(chat.calls[0]!.request.messages[0]), 'Write to <EMAIL_1>');
    assert.equal(result.text, `Sent to ${EMAIL}.`);
    assert.equal(contentOf(result.completion?.choices[0]?.message), `Sent to ${EMAIL}.`);
    assert.equal(result.placeholders, 'restored');
    assert.deepEqual(result.guards[0], {
      stage: 'input',
      action: 'redact',
      findings: [{ guard: 'pii', detail: 'email' }],
    });
  });

  it('placeholders: keep leaves them in the answer', async () => {
    const { call } = setup({ placeholders: 'keep' }, 'Sent to <EMAIL_1>.', redactEmail);
    const result = await call();
    assert.equal(result.text, 'Sent to <EMAIL_1>.');
    assert.equal(result.placeholders, 'kept');
  });

  it('restored into JSON, an original is escaped so the answer stays valid JSON', async () => {
    const quoted = 'say "hi"';
    const { call } = setup(
      { contract: { schema: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] } } },
      '{"to":"<Q_1>"}',
      (input) => ({ action: 'redact', input, placeholders: { '<Q_1>': quoted } }),
    );
    const result = await call();
    assert.deepEqual(result.output, { to: quoted });
  });

  it('an output block withholds the answer and does not remember it', async () => {
    const { call, prompts } = setup({}, 'secret', undefined, () => ({
      action: 'block',
      guard: 'denylist',
      reason: 'matched "secret"',
    }));
    await assert.rejects(call(), (err: FeatureError) => {
      assert.equal(err.code, 'KEEL_OUTPUT_BLOCKED');
      assert.equal(err.path.length, 1);
      return true;
    });
    assert.deepEqual(prompts.good, [], 'a withheld answer does not make its version known-good');
  });

  it('an output redaction rewrites the answer the caller gets', async () => {
    const { call, guards } = setup({}, 'call 555-1234', undefined, (text) => ({
      action: 'redact',
      text: text.replace('555-1234', '[PHONE]'),
    }));
    const result = await call();
    assert.equal(guards.outputs[0], 'call 555-1234');
    assert.equal(result.text, 'call [PHONE]');
  });
});
