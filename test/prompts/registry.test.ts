import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PromptVariableError } from '../../src/prompts/errors.ts';
import { MemoryPromptStore } from '../../src/prompts/memory-store.ts';
import { PromptRegistry } from '../../src/prompts/registry.ts';
import type { PromptStore } from '../../src/prompts/store.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { minimal, SUPPORT_V1, SUPPORT_V2 } from './fixtures.ts';

/** A memory store that counts how often the hot path reaches it. */
function countingStore(): { store: PromptStore; reads: () => number } {
  const store = new MemoryPromptStore();
  let reads = 0;
  for (const method of ['labels', 'latest', 'getVersion', 'lastKnownGood'] as const) {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      reads++;
      return original(...args);
    };
  }
  return { store, reads: () => reads };
}

const vars = { customer_name: 'Ada', question: 'Where is my order?' };

async function setup(options: { cacheMs?: number } = {}) {
  const clock = new FakeClock();
  const { store, reads } = countingStore();
  const registry = new PromptRegistry(store, {
    clock,
    cacheMs: options.cacheMs ?? 5000,
    quarantineMs: 60_000,
  });
  const v1 = (await registry.push(SUPPORT_V1, { who: 'ann' })).version.version;
  const v2 = (await registry.push(SUPPORT_V2, { who: 'ann' })).version.version;
  return { clock, store, reads, registry, v1, v2 };
}

describe('PromptRegistry', () => {
  test('push parses YAML or an object; identical content returns the stored version', async () => {
    const registry = new PromptRegistry(new MemoryPromptStore());
    const a = await registry.push(minimal('greet', 'hi'), { who: 'ann' });
    const b = await registry.push(
      { name: 'greet', messages: [{ role: 'user', content: 'hi' }] },
      { who: 'bob' },
    );
    assert.equal(a.created, true);
    assert.equal(b.created, false);
    assert.equal(b.version.version, a.version.version);
    await assert.rejects(registry.push('name: greet\n', { who: 'ann', source: 'greet.yaml' }), {
      message: 'invalid prompt file greet.yaml: messages: required (expected array)',
    });
  });

  test('resolution is cached: repeated requests do not reach the store; a promote is seen at once', async () => {
    const { registry, reads, v1, v2 } = await setup();
    assert.equal(
      (await registry.resolve('support-reply')).version.version,
      v2,
      'no production label: latest',
    );
    const before = reads();
    for (let i = 0; i < 100; i++) await registry.resolve('support-reply');
    assert.equal(reads(), before, 'served from memory');

    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    const r = await registry.resolve('support-reply');
    assert.deepEqual([r.version.version, r.label], [v1, 'production']);
  });

  test("another replica's change shows once the cache entry is older than cacheMs", async () => {
    const { registry, store, clock, v1, v2 } = await setup();
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    assert.equal((await registry.resolve('support-reply')).version.version, v1);
    await store.setLabel('support-reply', 'production', v2, { who: 'elsewhere', at: clock.now() });
    assert.equal((await registry.resolve('support-reply')).version.version, v1, 'still cached');
    await clock.advance(5001);
    assert.equal((await registry.resolve('support-reply')).version.version, v2);
  });

  test('a bad reference is a 400 naming it; a missing prompt a 404, and misses are not cached', async () => {
    const { registry } = await setup();
    await assert.rejects(registry.resolve('support reply'), { status: 400, param: 'ref' });
    await assert.rejects(registry.resolve('support-reply@xyz'), /is not a version id/);
    await assert.rejects(registry.resolve('nope'), { status: 404, message: 'no prompt "nope"' });
    await registry.push(minimal('nope', 'now it exists'), { who: 'ann' });
    assert.equal((await registry.resolve('nope')).version.name, 'nope');
  });

  test('render: messages, params, and which version and label were used', async () => {
    const { registry, v1 } = await setup();
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    const prepared = await registry.render('support-reply', vars);
    assert.deepEqual(prepared, {
      name: 'support-reply',
      version: v1,
      label: 'production',
      messages: [
        { role: 'system', content: 'Answer in a friendly tone.' },
        { role: 'user', content: 'Ada asks: Where is my order?' },
      ],
      params: { temperature: 0.2, max_tokens: 300 },
    });
  });

  test('a labelled version that cannot render falls back to the last known-good one, and says so', async () => {
    const { registry, v1, v2 } = await setup();
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    const ok = await registry.render('support-reply', vars);
    await registry.reportSuccess(ok);
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });

    // v2 needs "product", which callers do not send yet.
    const prepared = await registry.render('support-reply', vars);
    assert.equal(prepared.version, v1);
    assert.deepEqual(prepared.fallback, {
      from: v2,
      to: v1,
      reason: `version ${v2} cannot be rendered: variables.product: required variable is missing`,
    });
    assert.equal(prepared.label, 'production');

    // Variables wrong for both versions: the caller's error, a 400 naming the variable.
    await assert.rejects(
      registry.render('support-reply', { question: 'q', product: 'x' }),
      (err: unknown) => {
        assert.ok(err instanceof PromptVariableError);
        assert.equal(err.message, 'variables.customer_name: required variable is missing');
        return true;
      },
    );
    // Variables that fit v2 use v2, no fallback.
    const direct = await registry.render('support-reply', { ...vars, product: 'the app' });
    assert.equal(direct.version, v2);
    assert.equal(direct.fallback, undefined);
  });

  test('without a known-good version the render error reaches the caller', async () => {
    const { registry, v2 } = await setup();
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    await assert.rejects(registry.render('support-reply', vars), {
      message: 'variables.product: required variable is missing',
      status: 400,
    });
  });

  test('a pinned NAME@VERSION never falls back', async () => {
    const { registry, v1, v2 } = await setup();
    await registry.reportSuccess({ name: 'support-reply', version: v1 });
    await assert.rejects(
      registry.render(`support-reply@${v2}`, vars),
      /variables\.product: required variable is missing/,
    );
  });

  test('output failing validation N times in a row: the known-good version serves until the quarantine ends', async () => {
    const { registry, clock, v1, v2 } = await setup();
    await registry.reportSuccess({ name: 'support-reply', version: v1 });
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    const withProduct = { ...vars, product: 'the app' };

    registry.reportFailure({ name: 'support-reply', version: v2 });
    registry.reportFailure({ name: 'support-reply', version: v2 });
    assert.equal((await registry.render('support-reply', withProduct)).version, v2, 'two failures: still v2');
    registry.reportFailure({ name: 'support-reply', version: v2 });

    const fallback = await registry.render('support-reply', withProduct);
    assert.equal(fallback.version, v1);
    assert.deepEqual(fallback.fallback, {
      from: v2,
      to: v1,
      reason: `version ${v2} failed output validation 3 times in a row`,
    });

    await clock.advance(60_001);
    assert.equal(
      (await registry.render('support-reply', withProduct)).version,
      v2,
      'tried again after quarantine',
    );
  });

  test('a success resets the failure count', async () => {
    const { registry, v1, v2 } = await setup();
    await registry.reportSuccess({ name: 'support-reply', version: v1 });
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    const withProduct = { ...vars, product: 'the app' };
    registry.reportFailure({ name: 'support-reply', version: v2 });
    registry.reportFailure({ name: 'support-reply', version: v2 });
    await registry.reportSuccess({ name: 'support-reply', version: v2 });
    registry.reportFailure({ name: 'support-reply', version: v2 });
    assert.equal((await registry.render('support-reply', withProduct)).version, v2);
  });

  test('reportSuccess writes to the store only when the working version changes', async () => {
    const { registry, store, clock, v1, v2 } = await setup();
    let writes = 0;
    const markGood = store.markGood.bind(store);
    store.markGood = async (...args) => {
      writes++;
      return markGood(...args);
    };
    for (let i = 0; i < 50; i++) await registry.reportSuccess({ name: 'support-reply', version: v1 });
    await clock.advance(10);
    await registry.reportSuccess({ name: 'support-reply', version: v2 });
    await clock.advance(10);
    await registry.reportSuccess({ name: 'support-reply', version: v1 });
    assert.equal(writes, 3);
    assert.equal((await store.lastKnownGood('support-reply'))?.version, v1);
  });

  test('rollback moves the label back and the next resolve sees it', async () => {
    const { registry, v1, v2 } = await setup();
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    await registry.promote('support-reply', v2, 'production', { who: 'ann' });
    assert.equal((await registry.resolve('support-reply')).version.version, v2);
    const event = await registry.rollback('support-reply', 'production', {
      who: 'bob',
      reason: 'regression',
    });
    assert.deepEqual([event.version, event.previous, event.who, event.reason], [v1, v2, 'bob', 'regression']);
    assert.equal((await registry.resolve('support-reply')).version.version, v1);
    assert.equal((await registry.history('support-reply', 'production')).length, 3);
    await assert.rejects(registry.history('nope'), { status: 404 });
  });

  test('diff accepts @VERSION, :LABEL, a bare version id or a bare label', async () => {
    const { registry, v1, v2 } = await setup();
    await registry.promote('support-reply', v1, 'production', { who: 'ann' });
    const byVersion = await registry.diff('support-reply', `@${v1}`, v2);
    const byLabel = await registry.diff('support-reply', 'production', `@${v2}`);
    assert.equal(byLabel.diff, byVersion.diff);
    assert.match(
      byVersion.diff,
      new RegExp(`^--- support-reply@${v1}\\n\\+\\+\\+ support-reply@${v2}\\n@@ `),
    );
    assert.match(byVersion.diff, /\n\+ {2}product:\n/);
    assert.equal((await registry.diff('support-reply', ':production', `@${v1}`)).diff, '');
    await assert.rejects(registry.diff('support-reply', ':canary', v1), /has no label "canary"/);
  });
});
