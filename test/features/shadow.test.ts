import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import type { FeatureConfigInput } from '../../src/features/config.ts';
import { ReleaseLog } from '../../src/features/release-stats.ts';
import { FeatureService } from '../../src/features/service.ts';
import { ShadowRunner } from '../../src/features/shadow.ts';
import { FakePrompts, features, never, ScriptedChat } from './fakes.ts';

const BASELINE = '{"answer":"baseline"}';
const CANDIDATE = '{"answer":"candidate, from the shadow"}';
const schema = {
  type: 'object',
  properties: { answer: { type: 'string', maxLength: 10 } },
  required: ['answer'],
};

function setup(release: FeatureConfigInput['release'], options: { maxConcurrent?: number } = {}) {
  const prompts = new FakePrompts()
    .add('v1', { messages: [{ role: 'system', content: 'v1' }] }, 'production')
    .add('v2', { messages: [{ role: 'system', content: 'v2' }] }, 'canary')
    .add('v3', { messages: [{ role: 'system', content: 'v3' }] }, 'candidate');
  const chat = new ScriptedChat((route) =>
    route === 'candidate' ? { text: CANDIDATE, delayMs: 200 } : BASELINE,
  );
  const log = new ReleaseLog();
  const shadow = new ShadowRunner({ sink: log, clock: systemClock, ...options });
  const service = new FeatureService({
    features: features({
      f: { prompt: { name: 'p' }, route: 'main', contract: { schema }, ...(release ? { release } : {}) },
    }),
    prompts,
    chat,
    shadow,
    release: log,
  });
  return { service, chat, log, shadow };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

describe('shadow releases', () => {
  it('never delays the answer: the call resolves before a 200 ms candidate even starts', async () => {
    const plain = setup(undefined);
    const shadowed = setup({ shadow: { percent: 100, route: 'candidate', label: 'candidate' } });
    await plain.service.call('f', { requestId: 'warm-up' }, never());
    const without = await timed(() => plain.service.call('f', { requestId: 'r1' }, never()));
    const withShadow = await timed(() => shadowed.service.call('f', { requestId: 'r1' }, never()));
    console.log(
      `latency without shadow ${without.ms.toFixed(1)} ms, with a 200 ms shadow candidate ${withShadow.ms.toFixed(1)} ms`,
    );
    assert.ok(withShadow.ms < 100, `the call took ${withShadow.ms} ms`);
    assert.deepEqual(
      shadowed.chat.calls.map((c) => c.route),
      ['main'],
      'the candidate starts after the answer',
    );
    assert.equal(shadowed.log.records('f').length, 0);

    const started = performance.now();
    await shadowed.shadow.idle();
    assert.ok(performance.now() - started >= 150, 'the candidate ran in the background afterwards');
    assert.deepEqual(
      shadowed.chat.calls.map((c) => c.route),
      ['main', 'candidate'],
    );
  });

  it('never leaks the candidate’s answer, and stores both side by side with their validation', async () => {
    const { service, log, shadow } = setup({
      shadow: { percent: 100, route: 'candidate', label: 'candidate' },
    });
    const result = await service.call('f', { requestId: 'r1' }, never());
    await shadow.idle();
    assert.equal(result.text, BASELINE);
    assert.ok(!JSON.stringify(result).includes('shadow'), 'nothing of the candidate is in the result');
    const [record] = log.records('f');
    assert.ok(record?.kind === 'shadow');
    assert.equal(record.requestId, 'r1');
    assert.deepEqual(
      [record.baseline.version, record.baseline.route, record.baseline.text, record.baseline.validation?.ok],
      ['v1', 'main', BASELINE, true],
    );
    assert.deepEqual(
      [
        record.candidate.version,
        record.candidate.route,
        record.candidate.text,
        record.candidate.validation?.ok,
      ],
      ['v3', 'candidate', CANDIDATE, false],
    );
    assert.deepEqual(record.candidate.validation?.errors, ['/answer: must NOT have more than 10 characters']);
    assert.ok(record.candidate.latencyMs >= 190);
  });

  it('samples by request id: the same requests every time, about the configured share', async () => {
    const sampled = async () => {
      const { service, log, shadow } = setup(
        { shadow: { percent: 30, route: 'fast' } },
        { maxConcurrent: 1000 },
      );
      for (let i = 0; i < 1000; i++) await service.call('f', { requestId: `req-${i}` }, never());
      await shadow.idle();
      return log.records('f').map((r) => r.requestId);
    };
    const first = await sampled();
    const second = await sampled();
    console.log(`shadow sample at 30%: ${first.length} of 1000 requests`);
    assert.deepEqual(first, second);
    assert.ok(first.length >= 250 && first.length <= 350, `${first.length} sampled`);
  });

  it('bounded: beyond maxConcurrent shadow runs are dropped and counted, the answers unaffected', async () => {
    const { service, log, shadow } = setup(
      { shadow: { percent: 100, route: 'candidate' } },
      { maxConcurrent: 2 },
    );
    for (let i = 0; i < 5; i++) {
      const result = await service.call('f', { requestId: `r${i}` }, never());
      assert.equal(result.text, BASELINE);
    }
    assert.equal(shadow.stats.dropped, 3);
    await shadow.idle();
    assert.equal(log.records('f').length, 2);
    assert.deepEqual(shadow.stats, { running: 0, completed: 2, dropped: 3, failed: 0 });
  });

  it('a canary call is not shadowed', async () => {
    const { service, log, shadow } = setup({
      canary: { percent: 100, by: 'user' },
      shadow: { percent: 100, route: 'candidate' },
    });
    await service.call('f', { requestId: 'r', user: 'u' }, never());
    await shadow.idle();
    assert.deepEqual(
      log.records('f').map((r) => r.kind),
      ['canary'],
    );
  });
});
