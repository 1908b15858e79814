/**
 * The ReviewStore contract: the memory and SQLite stores run this suite unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReviewNotFoundError, ReviewStateError } from '../../src/review/errors.ts';
import type { NewReviewItem, ReviewStore } from '../../src/review/store.ts';

type MakeStore = () => Promise<ReviewStore> | ReviewStore;

export const escalated = (question: string, extra: Partial<NewReviewItem> = {}): NewReviewItem => ({
  reason: 'escalated',
  feature: 'support-reply',
  route: 'chat',
  traceId: 'req_1',
  input: { messages: [{ role: 'user', content: question }], variables: { question } },
  contexts: ['Orders ship in 2 days.'],
  ...extra,
});

export const flagged = (question: string): NewReviewItem => ({
  reason: 'flagged',
  input: { messages: [{ role: 'user', content: question }] },
  output: 'I cannot help with that.',
  validation: { failed: ['json_schema'], errors: ['answer: required'] },
  tags: ['regression'],
});

export function runReviewStoreContract(name: string, makeStore: MakeStore): void {
  const withStore = (fn: (store: ReviewStore) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`ReviewStore contract: ${name}`, () => {
    test(
      'enqueue stores the item open, with an id; get round-trips every field',
      withStore(async (store) => {
        const item = await store.enqueue(flagged('why?'), 1000);
        assert.match(item.id, /^rev_[0-9a-f]{16}$/);
        assert.deepEqual(item, { ...flagged('why?'), id: item.id, createdAt: 1000, status: 'open' });
        assert.deepEqual(await store.get(item.id), item);
        const bare = await store.enqueue({ reason: 'escalated', input: { variables: { n: 1 } } }, 1001);
        assert.deepEqual(await store.get(bare.id), {
          reason: 'escalated',
          input: { variables: { n: 1 } },
          id: bare.id,
          createdAt: 1001,
          status: 'open',
        });
        assert.equal(await store.get('rev_0000000000000000'), undefined);
      }),
    );

    test(
      'list: newest first, filtered by status, limited; counts per status',
      withStore(async (store) => {
        const a = await store.enqueue(escalated('a'), 1000);
        const b = await store.enqueue(escalated('b'), 2000);
        const c = await store.enqueue(escalated('c'), 2000);
        await store.resolve(a.id, { answer: 'A' }, { who: 'rev', at: 3000 });
        await store.resolve(b.id, { reject: true }, { who: 'rev', at: 3000 });
        assert.deepEqual(
          (await store.list()).map((i) => i.id),
          [c.id, b.id, a.id],
        );
        assert.deepEqual(
          (await store.list({ status: 'open' })).map((i) => i.id),
          [c.id],
        );
        assert.deepEqual(
          (await store.list({ status: 'resolved' })).map((i) => i.id),
          [a.id],
        );
        assert.deepEqual(
          (await store.list({ limit: 2 })).map((i) => i.id),
          [c.id, b.id],
        );
        assert.deepEqual(await store.counts(), { open: 1, resolved: 1, rejected: 1 });
      }),
    );

    test(
      'resolve with an answer or reject; who, when and the note are kept',
      withStore(async (store) => {
        const a = await store.enqueue(escalated('a'), 1000);
        const b = await store.enqueue(flagged('b'), 1000);
        const resolved = await store.resolve(
          a.id,
          { answer: 'Orders ship in 2 days.', note: 'checked' },
          { who: 'ann', at: 2000 },
        );
        assert.deepEqual(resolved, {
          ...a,
          status: 'resolved',
          answer: 'Orders ship in 2 days.',
          resolvedBy: 'ann',
          resolvedAt: 2000,
          note: 'checked',
        });
        assert.deepEqual(await store.get(a.id), resolved);
        const rejected = await store.resolve(b.id, { reject: true }, { who: 'bob', at: 2500 });
        assert.equal(rejected.status, 'rejected');
        assert.equal(rejected.answer, undefined);
        assert.deepEqual(await store.get(b.id), rejected);
        const structured = await store.enqueue(escalated('c'), 1000);
        const json = await store.resolve(
          structured.id,
          { answer: { reply: 'x', refund: false } },
          { who: 'ann', at: 1 },
        );
        assert.deepEqual((await store.get(json.id))?.answer, { reply: 'x', refund: false });
      }),
    );

    test(
      'only an open item can be closed; an unknown id is not found',
      withStore(async (store) => {
        const a = await store.enqueue(escalated('a'), 1000);
        await store.resolve(a.id, { answer: 'A' }, { who: 'ann', at: 2000 });
        await assert.rejects(
          store.resolve(a.id, { reject: true }, { who: 'bob', at: 3000 }),
          (err: unknown) => {
            assert.ok(err instanceof ReviewStateError);
            assert.equal(err.message, `review item ${a.id} is already resolved by ann`);
            return true;
          },
        );
        assert.equal((await store.get(a.id))?.resolvedBy, 'ann', 'unchanged');
        await assert.rejects(
          store.resolve('rev_0000000000000000', { answer: 'x' }, { who: 'a', at: 1 }),
          ReviewNotFoundError,
        );
      }),
    );

    test(
      'exportGolden: every resolved item oldest first, as eval cases; or the ids asked for',
      withStore(async (store) => {
        const a = await store.enqueue(escalated('first?'), 1000);
        const b = await store.enqueue(flagged('second?'), 2000);
        const c = await store.enqueue(escalated('third?'), 3000);
        await store.resolve(b.id, { answer: 'Two.' }, { who: 'ann', at: 4000 });
        await store.resolve(a.id, { answer: 'One.' }, { who: 'ann', at: 5000 });
        await store.resolve(c.id, { reject: true }, { who: 'ann', at: 6000 });
        const cases = await store.exportGolden();
        assert.deepEqual(cases, [
          {
            id: a.id,
            input: { messages: [{ role: 'user', content: 'first?' }], variables: { question: 'first?' } },
            expected: 'One.',
            contexts: ['Orders ship in 2 days.'],
            tags: ['escalated', 'feature:support-reply', 'route:chat'],
          },
          {
            id: b.id,
            input: { messages: [{ role: 'user', content: 'second?' }] },
            expected: 'Two.',
            tags: ['regression', 'flagged'],
          },
        ]);
        assert.deepEqual(await store.exportGolden([b.id]), [cases[1]]);
        await assert.rejects(store.exportGolden([c.id]), {
          message: `review item ${c.id} is rejected: only resolved items export`,
        });
        await assert.rejects(store.exportGolden(['rev_0000000000000000']), ReviewNotFoundError);
      }),
    );
  });
}
