import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryTraceStore } from '../../src/store/memory.ts';
import { runTraceStoreContract } from './contract.ts';
import { trace } from './fixtures.ts';

runTraceStoreContract('memory', async () => new MemoryTraceStore());

test('memory store keeps the newest maxTraces', async () => {
  const store = new MemoryTraceStore({ maxTraces: 5 });
  const traces = Array.from({ length: 12 }, (_, i) => trace({ startedAt: 1_000 + ((i * 7) % 12) }));
  await store.writeBatch(traces.slice(0, 6));
  await store.writeBatch(traces.slice(6));
  const kept = (await store.list({ limit: 100 })).traces.map((t) => t.startedAt);
  assert.deepEqual(kept, [1_011, 1_010, 1_009, 1_008, 1_007]);
  await store.close();
});

test('memory store hands out copies', async () => {
  const store = new MemoryTraceStore();
  const t = trace();
  await store.writeBatch([t]);
  t.route = 'mutated after write';
  const got = await store.get(t.id);
  assert.equal(got?.route, 'chat');
  if (got) got.route = 'mutated after read';
  assert.equal((await store.get(t.id))?.route, 'chat');
  await store.close();
  await assert.rejects(store.get(t.id), /closed/);
});
