import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLimitStore } from '../../../src/edge/limits/memory-store.ts';
import { FakeClock } from '../../helpers/fake-clock.ts';

const rule = { capacity: 10, perMs: 1000 }; // one unit every 100ms, bursts of 10

test('GCRA: a full bucket allows a burst of capacity, then one unit per interval', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock });
  const remaining: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await store.take('b', 1, rule);
    assert.equal(r.ok, true);
    assert.equal(r.retryAfterMs, 0);
    remaining.push(r.remaining);
  }
  assert.deepEqual(remaining, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  const refused = await store.take('b', 1, rule);
  assert.deepEqual(refused, { ok: false, remaining: 0, resetMs: 1000, retryAfterMs: 100 });

  await clock.advance(60);
  assert.equal((await store.take('b', 1, rule)).retryAfterMs, 40);
  await clock.advance(40);
  const after = await store.take('b', 1, rule);
  assert.deepEqual(after, { ok: true, remaining: 0, resetMs: 1000, retryAfterMs: 0 });

  await clock.advance(1000);
  assert.deepEqual(store.peekBucket('b', rule), { remaining: 10, resetMs: 0 });
});

test('GCRA: a cost that does not fit waits for exactly enough refill; a cost above capacity never fits', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock });
  assert.equal((await store.take('b', 8, rule)).remaining, 2);
  const refused = await store.take('b', 3, rule);
  assert.equal(refused.ok, false);
  assert.equal(refused.remaining, 2);
  assert.equal(refused.retryAfterMs, 100);
  await clock.advance(100);
  assert.equal((await store.take('b', 3, rule)).ok, true);

  const huge = await store.take('other', 11, rule);
  assert.equal(huge.ok, false);
  assert.equal(huge.retryAfterMs, Infinity);
  assert.deepEqual(store.peekBucket('other', rule), { remaining: 10, resetMs: 0 }, 'a refusal takes nothing');
});

test('GCRA: per-minute rules refill continuously (rpm 60 is one per second after the burst)', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock });
  const rpm = { capacity: 60, perMs: 60_000 };
  for (let i = 0; i < 60; i++) assert.equal((await store.take('k', 1, rpm)).ok, true);
  let admitted = 0;
  for (let second = 0; second < 30; second++) {
    await clock.advance(1000);
    if ((await store.take('k', 1, rpm)).ok) admitted++;
    assert.equal((await store.take('k', 1, rpm)).ok, false);
  }
  assert.equal(admitted, 30);
});

test('refund gives units back, never past capacity; charge can go into debt that later takes wait out', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock });
  await store.take('b', 10, rule);
  assert.deepEqual(await store.refund('b', 4, rule), { remaining: 4, resetMs: 600 });
  assert.deepEqual(await store.refund('b', 100, rule), { remaining: 10, resetMs: 0 });
  assert.equal(store.size().buckets, 0, 'a full bucket is not stored');

  assert.deepEqual(await store.charge('b', 5, rule), { remaining: 5, resetMs: 500 });
  assert.deepEqual(await store.charge('b', 10, rule), { remaining: 0, resetMs: 1500 });
  const refused = await store.take('b', 1, rule);
  assert.equal(refused.ok, false);
  assert.equal(refused.retryAfterMs, 600, 'the 5-unit debt is repaid before one more unit fits');
  await clock.advance(600);
  assert.equal((await store.take('b', 1, rule)).ok, true);
});

test('fractional intervals do not lose a unit to float error at the boundary', async () => {
  const clock = new FakeClock(Date.UTC(2025, 5, 1));
  const store = new MemoryLimitStore({ clock });
  const odd = { capacity: 7, perMs: 1000 };
  for (let i = 0; i < 7; i++) assert.equal((await store.take('b', 1, odd)).ok, true, `take ${i}`);
  assert.equal((await store.take('b', 1, odd)).ok, false);
  const tpm = { capacity: 1_000_000, perMs: 60_000 };
  for (let i = 0; i < 1000; i++) assert.equal((await store.take('t', 1000, tpm)).ok, true, `take ${i}`);
  assert.equal((await store.take('t', 1, tpm)).ok, false);
});

test('memory stays bounded: full buckets are swept, and a hard cap evicts the least recently used', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock, maxBuckets: 500 });
  for (let i = 0; i < 400; i++) await store.take(`idle-${i}`, 1, rule);
  assert.equal(store.size().buckets, 400);
  await clock.advance(1000); // every bucket has refilled
  for (let i = 0; i < 100; i++) await store.take('busy', 0, rule);
  assert.equal(store.size().buckets, 0, 'idle buckets are swept a few per call');

  for (let i = 0; i < 2000; i++) await store.take(`k-${i}`, 1, rule);
  assert.ok(store.size().buckets <= 500);
  assert.ok(store.size().forcedEvictions > 0);
  assert.equal(store.peekBucket('k-1999', rule).remaining, 9, 'recent buckets survive');
});

test('ledgers: reserve up to the limit, settle replaces the reservation, expire after the period', async () => {
  const clock = new FakeClock();
  const store = new MemoryLimitStore({ clock, ledgerGraceMs: 1000 });
  const end = clock.now() + 10_000;
  assert.deepEqual(await store.reserve('l', 0.6, 1, end), { ok: true, spent: 0, reserved: 0.6 });
  assert.deepEqual(await store.reserve('l', 0.5, 1, end), { ok: false, spent: 0, reserved: 0.6 });
  assert.deepEqual(await store.settle('l', 0.6, 0.2, end), { ok: true, spent: 0.2, reserved: 0 });
  assert.equal((await store.reserve('l', 0.8, 1, end)).ok, true, 'exactly up to the limit');
  assert.equal((await store.reserve('l', 0.01, 1, end)).ok, false);
  await store.settle('l', 0.8, 0, end);
  assert.deepEqual(store.peekLedger('l'), { spent: 0.2, reserved: 0 });

  await clock.advance(11_000);
  for (let i = 0; i < 20; i++) await store.reserve(`other-${i}`, 0, 1, clock.now() + 10_000);
  assert.equal(store.peekLedger('l'), undefined, 'an expired ledger is swept');
});
