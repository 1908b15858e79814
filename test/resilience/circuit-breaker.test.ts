import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BreakerTransition, CircuitBreaker } from '../../src/resilience/circuit-breaker.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

/** The state's name, read fresh (no narrowing across calls that change it). */
const kind = (breaker: CircuitBreaker): string => breaker.state.kind;

const options = { failureRate: 0.5, window: 10, minCalls: 4, openMs: 1000 };

test('stays closed below the minimum number of calls, whatever the failure rate', () => {
  const breaker = new CircuitBreaker(options, new FakeClock());
  for (let i = 0; i < 3; i++) breaker.failure();
  assert.equal(kind(breaker), 'closed');
  assert.equal(breaker.tryAcquire(), true);
});

test('opens when the failure rate in the window passes the threshold, and then refuses calls', () => {
  const breaker = new CircuitBreaker(options, new FakeClock());
  breaker.success();
  breaker.success();
  breaker.failure();
  breaker.failure();
  assert.equal(kind(breaker), 'closed', '2 of 4 is not above 50%');
  breaker.failure();
  assert.equal(kind(breaker), 'open', '3 of 5 is');
  assert.equal(breaker.tryAcquire(), false);
});

test('old outcomes slide out of the window', () => {
  const breaker = new CircuitBreaker({ ...options, window: 4 }, new FakeClock());
  breaker.failure();
  breaker.failure();
  for (let i = 0; i < 4; i++) breaker.success();
  breaker.failure();
  breaker.failure();
  assert.equal(kind(breaker), 'closed', 'the window holds s,s,f,f: 50%, not above');
});

test('after openMs exactly one half-open probe is admitted; success closes it', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(options, clock);
  const transitions: BreakerTransition[] = [];
  breaker.onTransition((t) => transitions.push(t));
  for (let i = 0; i < 4; i++) breaker.failure();
  assert.equal(kind(breaker), 'open');
  await clock.advance(999);
  assert.equal(breaker.tryAcquire(), false, 'still cooling down');
  await clock.advance(1);
  assert.equal(breaker.tryAcquire(), true, 'the probe');
  assert.equal(kind(breaker), 'half-open');
  assert.equal(breaker.tryAcquire(), false, 'only one probe at a time; others skip instantly');
  breaker.success();
  assert.equal(kind(breaker), 'closed');
  assert.deepEqual(
    transitions.map((t) => `${t.from}->${t.to}`),
    ['closed->open', 'open->half-open', 'half-open->closed'],
  );
  // A fresh window after closing: one failure does not reopen it.
  breaker.failure();
  assert.equal(kind(breaker), 'closed');
});

test('a failed probe reopens for another openMs', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(options, clock);
  for (let i = 0; i < 4; i++) breaker.failure();
  await clock.advance(1000);
  assert.equal(breaker.tryAcquire(), true);
  breaker.failure();
  assert.equal(kind(breaker), 'open');
  assert.equal(breaker.tryAcquire(), false);
  await clock.advance(1000);
  assert.equal(breaker.tryAcquire(), true);
});

test('a cancelled probe frees the slot for the next caller', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(options, clock);
  for (let i = 0; i < 4; i++) breaker.failure();
  await clock.advance(1000);
  assert.equal(breaker.tryAcquire(), true);
  breaker.release();
  assert.equal(breaker.tryAcquire(), true);
});
