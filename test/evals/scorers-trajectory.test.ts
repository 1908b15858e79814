import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToolCallRecord } from '../../src/evals/scorers/scorer.ts';
import {
  isSubset,
  stepCeiling,
  toolArguments,
  toolOrder,
  toolUsed,
} from '../../src/evals/scorers/trajectory.ts';
import { ctx, evalCase, scoreValue } from './fixtures.ts';

const calls: ToolCallRecord[] = [
  { name: 'lookup_user', arguments: '{"email":"a@b.co"}' },
  {
    name: 'search_orders',
    arguments: { userId: 7, filter: { status: 'open', since: '2024-01-01' }, limit: 10 },
  },
  { name: 'lookup_user', arguments: { email: 'c@d.co' } },
  { name: 'refund', arguments: { orderId: 'o-1', amount: 20 } },
];
const run = ctx({ toolCalls: calls });

test('isSubset: expected object keys contained recursively, arrays element by element', () => {
  assert.equal(isSubset({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2, d: 3 }, e: 4 }), true);
  assert.equal(isSubset({ b: { c: 2 } }, { b: { c: '2' } }), false);
  assert.equal(isSubset({ xs: [{ id: 1 }] }, { xs: [{ id: 1, n: 'x' }] }), true);
  assert.equal(isSubset({ xs: [1] }, { xs: [1, 2] }), false);
  assert.equal(isSubset({ a: undefined }, {}), false);
  assert.equal(isSubset({}, { anything: true }), true);
});

test('toolUsed is 1 only when the tool was called', async () => {
  assert.equal(scoreValue(await toolUsed({ tool: 'refund' }).score(run)), 1);
  const missing = await toolUsed({ tool: 'cancel' }).score(run);
  assert.equal(scoreValue(missing), 0);
  assert.match(
    'detail' in missing ? (missing.detail ?? '') : '',
    /cancel not called \(called: lookup_user, search_orders/,
  );
  assert.deepEqual(await toolUsed({ tool: 'refund' }).score(ctx()), {
    error: 'case "c1": the run reported no toolCalls',
  });
  assert.equal(scoreValue(await toolUsed({ tool: 'refund' }).score(ctx({ toolCalls: [] }))), 0);
});

test('toolArguments matches a subset of some call’s arguments, JSON text included', async () => {
  const nested = toolArguments({ tool: 'search_orders', arguments: { filter: { status: 'open' } } });
  assert.equal(scoreValue(await nested.score(run)), 1);
  const fromText = toolArguments({ tool: 'lookup_user', arguments: { email: 'a@b.co' } });
  assert.equal(scoreValue(await fromText.score(run)), 1);
  const second = toolArguments({ tool: 'lookup_user', arguments: { email: 'c@d.co' } });
  assert.equal(scoreValue(await second.score(run)), 1, 'any call to the tool may match');
  const wrong = toolArguments({ tool: 'refund', arguments: { amount: 25 } });
  const result = await wrong.score(run);
  assert.equal(scoreValue(result), 0);
  assert.match(
    'detail' in result ? (result.detail ?? '') : '',
    /refund called with \{"orderId":"o-1","amount":20\}/,
  );

  const perCase = toolArguments({
    tool: 'refund',
    arguments: (c) =>
      c.expected && typeof c.expected === 'object'
        ? (c.expected.refund as Record<string, unknown>)
        : undefined,
  });
  const withExpected = ctx({
    evalCase: evalCase({ expected: { refund: { orderId: 'o-1' } } }),
    toolCalls: calls,
  });
  assert.equal(scoreValue(await perCase.score(withExpected)), 1);
  assert.deepEqual(await perCase.score(run), { error: 'case "c1" gives no expected arguments' });
});

test('toolOrder scores how much of the expected sequence appears in order', async () => {
  assert.equal(scoreValue(await toolOrder({ sequence: ['lookup_user', 'refund'] }).score(run)), 1);
  assert.equal(
    scoreValue(await toolOrder({ sequence: ['lookup_user', 'lookup_user', 'refund'] }).score(run)),
    1,
  );
  const reversed = await toolOrder({ sequence: ['refund', 'search_orders'] }).score(run);
  assert.equal(scoreValue(reversed), 0.5);
  assert.equal('pass' in reversed && reversed.pass, false);
  assert.equal(scoreValue(await toolOrder({ sequence: ['cancel', 'refund'] }).score(run)), 0);
});

test('stepCeiling passes at or under the ceiling', async () => {
  assert.equal(scoreValue(await stepCeiling({ maxSteps: 4 }).score(run)), 1);
  assert.equal(scoreValue(await stepCeiling({ maxSteps: 3 }).score(run)), 0);
});
