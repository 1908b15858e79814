import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fullJitterDelay } from '../../src/resilience/backoff.ts';

test('full-jitter delay stays within [0, min(cap, base * 2^retry))', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 0, max: 60_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (retry, base, cap, roll) => {
        const delay = fullJitterDelay(retry, { baseDelayMs: base, maxDelayMs: cap }, () => roll);
        const ceiling = Math.min(cap, base * 2 ** retry);
        return Number.isInteger(delay) && delay >= 0 && (ceiling === 0 ? delay === 0 : delay < ceiling);
      },
    ),
  );
});

test('the ceiling doubles per retry until the cap', () => {
  const top = (retry: number) =>
    fullJitterDelay(retry, { baseDelayMs: 100, maxDelayMs: 1000 }, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(top), [99, 199, 399, 799, 999, 999]);
});
