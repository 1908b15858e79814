import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryTraceStore } from '../../src/store/memory.ts';
import { SqliteTraceStore } from '../../src/store/sqlite/store.ts';
import {
  type RecorderErrorContext,
  TraceRecorder,
  type TraceSink,
  type TraceWriter,
} from '../../src/telemetry/recorder.ts';
import { DROPPED_BODY, REDACTION_FAILED } from '../../src/telemetry/redaction.ts';
import type { Trace } from '../../src/telemetry/trace.ts';
import { trace } from '../store/fixtures.ts';
import {
  assertNoRaw,
  bodiesFor,
  dbBytes,
  EMAIL,
  piiTrace,
  queue,
  SlowStore,
  waitFor,
} from './recorder-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-recorder-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('TraceRecorder redaction', () => {
  test('no raw PII reaches the SQLite file bytes; placeholders do', async () => {
    const path = join(dir, 'pii', 'keel.db');
    const store = new SqliteTraceStore({ path });
    const exported: Trace[] = [];
    const sink: TraceSink = { name: 'capture', export: async (ts) => void exported.push(...ts) };
    const recorder = new TraceRecorder({ store, queue: queue(), bodiesFor, salt: 's3cret', sinks: [sink] });
    const redacted = piiTrace('chat-redact');
    const hashed = piiTrace('chat-hash');
    recorder.record(redacted);
    recorder.record(hashed);
    await recorder.drain();
    assert.deepEqual(recorder.stats(), {
      queued: 0,
      dropped: 0,
      written: 2,
      writeErrors: 0,
      failed: 0,
      sinkDropped: 0,
    });

    const stored = JSON.stringify(await store.get(redacted.id));
    for (const p of ['<EMAIL_1>', '<CARD_1>', '<SECRET_1>']) assert.ok(stored.includes(p), p);
    assert.match(JSON.stringify(await store.get(hashed.id)), /<EMAIL:[0-9a-f]{8}>/);
    assertNoRaw(JSON.stringify(exported), 'the sink');
    assert.equal(exported.length, 2);
    assert.ok(JSON.stringify(redacted).includes(EMAIL), 'the recorded object itself is not modified');

    assertNoRaw(dbBytes(path), 'the open database files');
    await recorder.close();
    await store.close();
    const bytes = dbBytes(path);
    assertNoRaw(bytes, 'the closed database files');
    for (const p of ['<EMAIL_1>', '<CARD_1>', '<SECRET_1>']) assert.ok(bytes.includes(p), `${p} in the file`);
    assert.match(bytes, /<EMAIL:[0-9a-f]{8}>/);
  });

  test("'drop' stores no bodies, and still redacts error text", async () => {
    const store = new MemoryTraceStore();
    const recorder = new TraceRecorder({ store, queue: queue(), bodiesFor, salt: '' });
    const t = piiTrace('chat-drop');
    recorder.record(t);
    await recorder.close();
    const got = await store.get(t.id);
    assert.equal(got?.request, DROPPED_BODY);
    assert.equal(got?.response, DROPPED_BODY);
    assert.deepEqual(got?.slots.toolOutputs, [DROPPED_BODY]);
    assert.equal(got?.errorMessage, 'upstream rejected key <SECRET_1> for <EMAIL_1>');
    assert.equal(got?.spans[0]?.errorMessage, 'card <CARD_1> declined for <EMAIL_1>');
    assertNoRaw(JSON.stringify(got), 'a dropped trace');
    assert.ok(!JSON.stringify(got).includes('my key is'), 'no body text at all');
  });

  test('fails closed: a throwing policy lookup or hashing without a salt drops the bodies', async () => {
    const store = new MemoryTraceStore();
    const recorder = new TraceRecorder({
      store,
      queue: queue(),
      bodiesFor: (route) => {
        if (route === 'boom') throw new Error('no policy');
        return 'hash';
      },
      salt: '',
    });
    const a = piiTrace('boom');
    const b = piiTrace('chat-hash');
    recorder.record(a);
    recorder.record(b);
    await recorder.close();
    for (const t of [a, b]) {
      const got = await store.get(t.id);
      assert.equal(got?.request, REDACTION_FAILED);
      assert.equal(got?.response, REDACTION_FAILED);
      assertNoRaw(JSON.stringify(got), t.route);
    }
  });
});

describe('TraceRecorder queue', () => {
  test('overflow drops and counts; the queue never exceeds its capacity', async () => {
    const store = new SlowStore(30);
    const recorder = new TraceRecorder({
      store,
      queue: queue({ capacity: 10, batchSize: 5, flushMs: 5 }),
      bodiesFor,
      salt: '',
    });
    let maxQueued = 0;
    for (let i = 0; i < 1000; i++) {
      recorder.record(trace());
      maxQueued = Math.max(maxQueued, recorder.stats().queued);
    }
    assert.equal(maxQueued, 10);
    assert.equal(recorder.stats().dropped, 990);

    // Now at a steady pace, faster than the slow store can take.
    for (let i = 0; i < 1000; i++) {
      recorder.record(trace());
      maxQueued = Math.max(maxQueued, recorder.stats().queued);
      if (i % 20 === 0) await sleep(1);
    }
    assert.equal(maxQueued, 10);
    await recorder.close();
    const s = recorder.stats();
    const written = store.batches.reduce((a, b) => a + b, 0);
    assert.equal(s.written, written);
    assert.equal(s.written + s.dropped + s.failed, 2000);
    assert.ok(s.dropped > 1500, `dropped ${s.dropped}`);
    assert.equal(store.maxInFlight, 1, 'one batch in flight at a time');
    assert.ok(Math.max(...store.batches) <= 5, 'batches respect batchSize');
  });

  test('record() returns at once while a write is in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const store: TraceWriter = {
      async writeBatch() {
        calls += 1;
        await gate;
      },
    };
    const recorder = new TraceRecorder({
      store,
      queue: queue({ capacity: 5_000, batchSize: 5, flushMs: 250 }),
      bodiesFor,
      salt: '',
    });
    for (let i = 0; i < 5; i++) recorder.record(trace());
    await waitFor(() => calls === 1); // the setImmediate flush starts and blocks on the gate
    const t0 = performance.now();
    for (let i = 0; i < 1_000; i++) assert.equal(recorder.record(trace()), undefined);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 250, `1000 records took ${elapsed} ms`);
    assert.equal(calls, 1, 'still the same write');
    assert.equal(recorder.stats().queued, 1_000);
    release();
    await recorder.drain();
    assert.equal(recorder.stats().written, 1_005);
    await recorder.close();
  });

  test('a full batch is flushed without waiting for the timer, but not inside record()', async () => {
    const store = new MemoryTraceStore();
    const recorder = new TraceRecorder({
      store,
      queue: queue({ batchSize: 10, flushMs: 250 }),
      bodiesFor,
      salt: '',
    });
    for (let i = 0; i < 10; i++) recorder.record(trace());
    assert.equal(recorder.stats().queued, 10, 'nothing written synchronously');
    await waitFor(() => recorder.stats().written === 10, 200);
    await recorder.close();
  });

  test('drain() writes everything queued', async () => {
    const store = new MemoryTraceStore({ maxTraces: 100_000 });
    const recorder = new TraceRecorder({
      store,
      queue: queue({ capacity: 10_000, batchSize: 100, flushMs: 250 }),
      bodiesFor,
      salt: '',
    });
    for (let i = 0; i < 2_345; i++) recorder.record(trace());
    await recorder.drain();
    assert.deepEqual(recorder.stats(), {
      queued: 0,
      dropped: 0,
      written: 2_345,
      writeErrors: 0,
      failed: 0,
      sinkDropped: 0,
    });
    assert.equal((await store.stats(0, Number.MAX_SAFE_INTEGER)).total.requests, 2_345);
    await recorder.close();
    recorder.record(trace());
    assert.equal(recorder.stats().dropped, 1, 'closed: refused and counted');
  });
});

describe('TraceRecorder failures', () => {
  test('a throwing store never throws out of record(); errors are counted and reported', async () => {
    const errors: RecorderErrorContext[] = [];
    const syncThrow: TraceWriter = {
      writeBatch: () => {
        throw new Error('disk on fire');
      },
    };
    const rejecting: TraceWriter = { writeBatch: async () => Promise.reject(new Error('locked')) };
    for (const store of [syncThrow, rejecting]) {
      errors.length = 0;
      const recorder = new TraceRecorder({
        store,
        queue: queue({ batchSize: 10, flushMs: 5 }),
        bodiesFor,
        salt: '',
        onError: (_err, ctx) => {
          errors.push(ctx);
          throw new Error('and the logger throws too');
        },
      });
      for (let i = 0; i < 25; i++) assert.doesNotThrow(() => recorder.record(trace()));
      await sleep(30);
      for (let i = 0; i < 5; i++) recorder.record(trace());
      await recorder.close();
      const s = recorder.stats();
      assert.equal(s.written, 0);
      assert.equal(s.failed, 30, 'failed batches are dropped, not retried');
      assert.ok(s.writeErrors >= 3);
      assert.equal(s.queued, 0);
      assert.ok(errors.length >= 3 && errors.every((e) => e.where === 'store'));
    }
  });

  test('a failing or slow sink does not hold up the store', async () => {
    const store = new MemoryTraceStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: TraceSink = { name: 'slow', export: () => gate };
    const broken: TraceSink = {
      name: 'broken',
      export: () => {
        throw new Error('collector down');
      },
    };
    const errors: RecorderErrorContext[] = [];
    const recorder = new TraceRecorder({
      store,
      queue: queue({ batchSize: 10, flushMs: 5 }),
      bodiesFor,
      salt: '',
      sinks: [slow, broken],
      onError: (_e, ctx) => errors.push(ctx),
    });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) recorder.record(trace());
      await sleep(15);
    }
    await waitFor(() => recorder.stats().written === 50); // the store got every batch
    assert.equal(recorder.stats().sinkDropped, 30, 'the slow sink kept two batches, the rest were skipped');
    assert.ok(errors.some((e) => e.where === 'sink' && e.sink === 'broken'));
    release();
    await recorder.close();
    assert.equal(recorder.stats().writeErrors, 5);
  });

  test('retention prunes the store by age and rows', async () => {
    const store = new MemoryTraceStore();
    const day = 86_400_000;
    await store.writeBatch([trace({ startedAt: Date.now() - 40 * day }), trace({ startedAt: Date.now() })]);
    const recorder = new TraceRecorder({
      store,
      queue: queue(),
      retention: { maxAgeDays: 30, maxRows: 1_000 },
      retentionEveryMs: 10,
      bodiesFor,
      salt: '',
    });
    await waitFor(async () => (await store.list({})).traces.length === 1);
    await store.writeBatch([trace({ startedAt: Date.now() + 1 })]);
    assert.equal(await recorder.runRetention(), 0);
    await recorder.close();
    const byRows = new TraceRecorder({
      store,
      queue: queue(),
      retention: { maxAgeDays: 30, maxRows: 1 },
      bodiesFor,
      salt: '',
    });
    assert.equal(await byRows.runRetention(), 1);
    await byRows.close();
  });
});
