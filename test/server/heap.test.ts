import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heapFlagChosen } from '../../src/server/heap.ts';

test("the gateway's heap setting yields to the operator's own flag", () => {
  assert.equal(heapFlagChosen([], undefined), false);
  assert.equal(heapFlagChosen(['--expose-gc'], '--max-old-space-size=512'), false);
  assert.equal(heapFlagChosen(['--heap-growing-percent=30'], undefined), true);
  assert.equal(heapFlagChosen([], '--enable-source-maps --heap_growing_percent=10'), true);
  // A different flag that merely starts the same way is not the operator's choice.
  assert.equal(heapFlagChosen(['--heap-growing-percentage=5'], undefined), false);
});
