/**
 * The registry behind the feature pipeline's PromptsPort: the adapter type-checks against the port,
 * and the pipeline's own preparePrompt falls back through it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompiledFeature } from '../../src/features/config.ts';
import type { PromptsPort } from '../../src/features/ports.ts';
import { preparePrompt } from '../../src/features/prompt-version.ts';
import { PromptQuarantinedError, promptsPort } from '../../src/prompts/feature-port.ts';
import { MemoryPromptStore } from '../../src/prompts/memory-store.ts';
import { PromptRegistry } from '../../src/prompts/registry.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { SUPPORT_V1, SUPPORT_V2 } from './fixtures.ts';

const feature = {
  name: 'support',
  config: { prompt: { name: 'support-reply', label: 'production' } },
} as CompiledFeature;
const vars = { customer_name: 'Ada', question: 'Where is my order?', product: 'the app' };

async function setup() {
  const clock = new FakeClock();
  const registry = new PromptRegistry(new MemoryPromptStore(), { clock, quarantineMs: 60_000 });
  const v1 = (await registry.push(SUPPORT_V1, { who: 'ann' })).version.version;
  const v2 = (await registry.push(SUPPORT_V2, { who: 'ann' })).version.version;
  const port: PromptsPort = promptsPort(registry);
  return { clock, registry, port, v1, v2 };
}

describe('promptsPort', () => {
  test('resolve a label (undefined when missing), render a version with its params, render inline', async () => {
    const { registry, port, v1 } = await setup();
    assert.equal(await port.resolve('support-reply', 'production'), undefined);
    assert.equal(await port.resolve('nope', 'production'), undefined);
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    assert.equal(await port.resolve('support-reply', 'production'), v1);
    const rendered = await port.render('support-reply', v1, { customer_name: 'Ada', question: 'Hi' });
    assert.deepEqual(rendered, {
      messages: [
        { role: 'system', content: 'Answer in a friendly tone.' },
        { role: 'user', content: 'Ada asks: Hi' },
      ],
      temperature: 0.2,
      maxTokens: 300,
    });
    await assert.rejects(
      Promise.resolve(port.render('support-reply', v1, { question: 'Hi' })),
      /variables\.customer_name: required variable is missing/,
    );
    const inline = await port.renderInline(
      [{ role: 'developer', content: 'Summarise {{doc.title}}: {{text}}' }],
      {
        doc: { title: 'T' },
        text: 'body',
        unused: 1,
      },
    );
    assert.deepEqual(inline.messages, [{ role: 'developer', content: 'Summarise T: body' }]);
    assert.throws(() => port.renderInline([{ role: 'user', content: '{{text}}' }], {}), {
      message: 'variables.text: required variable is missing',
    });
  });

  test('markKnownGood and lastKnownGood go through the registry', async () => {
    const { port, v1, v2 } = await setup();
    assert.equal(await port.lastKnownGood('support-reply'), undefined);
    await port.markKnownGood('support-reply', v1);
    assert.equal(await port.lastKnownGood('support-reply', v2), v1);
    assert.equal(await port.lastKnownGood('support-reply', v1), undefined);
  });

  test("a version that keeps failing validation: the pipeline's preparePrompt falls back and says why", async () => {
    const { clock, registry, port, v1 } = await setup();
    const reworded = SUPPORT_V1.replace('Answer in a {{tone}} tone.', 'Answer briefly in a {{tone}} tone.');
    const v2 = (await registry.push(reworded, { who: 'ann' })).version.version;
    const both = { customer_name: 'Ada', question: 'Where is my order?' };
    await port.markKnownGood('support-reply', v1);
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    for (let i = 0; i < 3; i++) await port.reportFailure?.('support-reply', v2);

    await assert.rejects(Promise.resolve(port.render('support-reply', v2, both)), PromptQuarantinedError);
    const prepared = await preparePrompt(port, clock, feature, 'baseline', both);
    assert.equal(prepared.version, v1);
    assert.equal(prepared.step?.via, 'last_known_good');
    assert.match(
      prepared.step?.why ?? '',
      new RegExp(`version ${v2} of support-reply failed output validation 3 times`),
    );

    await clock.advance(60_001);
    assert.equal((await preparePrompt(port, clock, feature, 'baseline', both)).version, v2, 'tried again');
  });

  test('a quarantined version still renders when the known-good one cannot take the variables', async () => {
    const { registry, port, v1, v2 } = await setup();
    await port.markKnownGood('support-reply', v1);
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    for (let i = 0; i < 3; i++) await port.reportFailure?.('support-reply', v2);
    // v1 does not declare "product": the strict known-good render would fail, so v2 serves.
    assert.equal(
      (await port.render('support-reply', v2, vars)).messages[0]?.content,
      'Answer in a friendly tone about the app.',
    );
  });
});
