import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { chatRequestSchema, parseChatRequest, plainChatRequest } from '../../src/server/schemas.ts';

/** Values of every JSON kind, with the edge numbers the field checks care about. */
const anyValue = fc.oneof(
  fc.constantFrom(
    0,
    1,
    2,
    -2,
    0.5,
    2.0001,
    -1,
    1_000_000,
    1_000_001,
    1.5,
    2 ** 53,
    null,
    true,
    false,
    '',
    'x',
  ),
  fc.string({ maxLength: 300 }),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/** Mostly a valid value for the field, sometimes anything: the check must never accept a bad one. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: anyValue, weight: 1 });

/** Mostly inside the field's range, sometimes just outside it (or at an edge). */
const near = (inside: fc.Arbitrary<number>, below: number, above: number) =>
  fc.oneof({ arbitrary: inside, weight: 6 }, fc.constantFrom(below, above));

/** Messages near the common shape: plain and odd roles, string and other contents, extra keys. */
const message = fc
  .record(
    {
      role: fc.oneof(
        { arbitrary: fc.constantFrom('system', 'developer', 'user', 'assistant'), weight: 12 },
        fc.constantFrom('tool', 'robot', 'User'),
        anyValue,
      ),
      content: mostly(fc.string({ maxLength: 40 })),
      name: mostly(fc.string({ maxLength: 10 })),
      tool_call_id: fc.string({ maxLength: 5 }),
      extra: anyValue,
    },
    { requiredKeys: ['role', 'content'] },
  )
  .chain((m) => fc.tuple(fc.constant(m), fc.integer({ min: 0, max: 19 })))
  .map(([m, dice]) => {
    // Rare keys stay rare: most generated messages carry only role, content and sometimes name.
    const { tool_call_id: _id, extra: _extra, ...rest } = m;
    return dice === 0 ? m : rest;
  });

/** Bodies near the common shape: every known field, sometimes with a wrong value, sometimes a stray key. */
const body = fc
  .record(
    {
      model: mostly(fc.constantFrom('chat', 'model:primary', '')),
      messages: mostly(fc.array(message, { minLength: 0, maxLength: 3 })),
      stream: mostly(fc.boolean()),
      temperature: mostly(near(fc.double({ min: 0, max: 2, noNaN: true }), -0.5, 2.5)),
      top_p: mostly(near(fc.double({ min: 0, max: 1, noNaN: true }), -0.2, 1.2)),
      max_tokens: mostly(near(fc.integer({ min: 1, max: 1_000_000 }), -1, 1_000_001)),
      max_completion_tokens: mostly(near(fc.integer({ min: 1, max: 1_000_000 }), -1, 1_000_001)),
      n: mostly(near(fc.constant(1), 0, 2)),
      stop: mostly(fc.string({ maxLength: 5 })),
      presence_penalty: mostly(near(fc.double({ min: -2, max: 2, noNaN: true }), -3, 3)),
      frequency_penalty: mostly(near(fc.double({ min: -2, max: 2, noNaN: true }), -3, 3)),
      seed: mostly(fc.oneof(fc.integer(), fc.double({ noNaN: true }))),
      user: mostly(
        fc.oneof(
          { arbitrary: fc.string({ maxLength: 256 }), weight: 5 },
          fc.string({ minLength: 250, maxLength: 300 }),
        ),
      ),
      tools: anyValue,
      stray: anyValue,
    },
    { requiredKeys: ['model', 'messages'] },
  )
  .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: 19 })))
  .map(([b, dice]) => {
    const { tools: _tools, stray: _stray, ...rest } = b;
    return dice === 0 ? b : rest;
  });

test('the common-shape check accepts only what the schema accepts, and returns it unchanged', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(body, fc.jsonValue()), (candidate) => {
      const plain = plainChatRequest(candidate);
      if (plain === undefined) return;
      accepted++;
      const parsed = chatRequestSchema.safeParse(candidate);
      assert.ok(parsed.success, `the schema rejects what the check accepted: ${JSON.stringify(candidate)}`);
      assert.deepEqual(parsed.data, candidate);
      assert.equal(plain, candidate);
    }),
    { numRuns: 20_000, seed: 20261123 },
  );
  assert.ok(accepted > 200, `the generator reached the accepting branch only ${accepted} times`);
});

test('requests outside the common shape still get the schema and its messages', () => {
  const ok = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
  assert.equal(plainChatRequest(ok), ok, 'the common shape passes as is');
  assert.equal(plainChatRequest({ ...ok, tools: [] }), undefined, 'tools go to the schema');
  assert.equal(
    plainChatRequest({ model: 'chat', messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }),
    undefined,
  );
  assert.throws(
    () => parseChatRequest({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }),
    /temperature: Too big/,
  );
  assert.throws(
    () => parseChatRequest({ model: 'chat', messages: [{ role: 'user' }] }),
    /messages\[0\]\.content: required/,
  );
});
