/**
 * The TraceStore contract: every store (memory, SQLite, later Postgres) runs this suite unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatsRow, TraceStore, TraceSummary } from '../../src/store/trace-store.ts';
import type { Trace } from '../../src/telemetry/trace.ts';
import { fullTrace, trace } from './fixtures.ts';
import { statsFixture } from './stats-fixture.ts';

type MakeStore = () => Promise<TraceStore>;

function summaryOf(t: Trace): TraceSummary {
  const { spans: _s, request: _rq, response: _rs, slots: _sl, decisionPath: _d, ...rest } = t;
  return rest;
}

async function allPages(store: TraceStore, query: Parameters<TraceStore['list']>[0]) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await store.list(cursor === undefined ? query : { ...query, cursor });
    ids.push(...page.traces.map((t) => t.id));
    sizes.push(page.traces.length);
    if (page.nextCursor === undefined) return { ids, sizes };
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

const newestFirst = (a: Trace, b: Trace) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1);

export function runTraceStoreContract(name: string, makeStore: MakeStore): void {
  const withStore = (fn: (store: TraceStore) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`TraceStore contract: ${name}`, () => {
    test(
      'write then get round-trips the whole trace',
      withStore(async (store) => {
        const t = fullTrace();
        const plain = trace();
        await store.writeBatch([t, plain]);
        assert.deepEqual(await store.get(t.id), t);
        assert.deepEqual(await store.get(plain.id), plain);
        assert.equal(await store.get('nope'), undefined);
        await store.writeBatch([]);
      }),
    );

    test(
      'writing an id again replaces the trace',
      withStore(async (store) => {
        const t = trace({ route: 'first' });
        await store.writeBatch([t]);
        const again = { ...t, route: 'second', spans: [] };
        await store.writeBatch([again]);
        assert.deepEqual(await store.get(t.id), again);
        const page = await store.list({});
        assert.deepEqual(
          page.traces.map((s) => [s.id, s.route]),
          [[t.id, 'second']],
        );
        assert.equal((await store.stats(0, 1e15)).targets.length, 0, 'the old spans are gone');
      }),
    );

    test(
      'list returns summaries, newest first',
      withStore(async (store) => {
        const a = fullTrace();
        const b = trace({ startedAt: a.startedAt + 10 });
        await store.writeBatch([a, b]);
        const page = await store.list({});
        assert.deepEqual(page.traces, [summaryOf(b), summaryOf(a)]);
        assert.equal(page.nextCursor, undefined);
      }),
    );

    test(
      'every filter',
      withStore(async (store) => {
        const a = trace({ startedAt: 100, user: 'u1', session: 's1', feature: 'f1', key: 'k1' });
        const b = trace({ startedAt: 200, target: 'anthropic/claude', decision: 'fallback', user: 'u2' });
        const c = trace({
          startedAt: 300,
          route: 'support',
          status: 503,
          outcome: 'error',
          decision: 'error',
        });
        delete c.target;
        c.user = 'u1';
        c.session = 's2';
        const d = trace({
          startedAt: 400,
          route: 'support',
          outcome: 'error',
          decision: 'hedge',
          feature: 'f2',
        });
        d.key = 'k2';
        const e = trace({ startedAt: 500, status: 429, outcome: 'error', decision: 'retry', session: 's1' });
        await store.writeBatch([c, a, e, b, d]);
        const ids = async (q: Parameters<TraceStore['list']>[0]) =>
          (await store.list(q)).traces.map((t) => t.id);
        assert.deepEqual(await ids({}), [e.id, d.id, c.id, b.id, a.id]);
        assert.deepEqual(await ids({ route: 'support' }), [d.id, c.id]);
        assert.deepEqual(await ids({ target: 'openai/gpt-4o' }), [e.id, d.id, a.id]);
        assert.deepEqual(await ids({ target: 'anthropic/claude' }), [b.id]);
        assert.deepEqual(await ids({ status: 200 }), [d.id, b.id, a.id]);
        assert.deepEqual(await ids({ status: 503 }), [c.id]);
        assert.deepEqual(await ids({ status: 'ok' }), [b.id, a.id]);
        assert.deepEqual(await ids({ status: 'error' }), [e.id, d.id, c.id]);
        assert.deepEqual(await ids({ decision: 'fallback' }), [b.id]);
        assert.deepEqual(await ids({ decision: 'hedge' }), [d.id]);
        assert.deepEqual(await ids({ decision: 'primary' }), [a.id]);
        assert.deepEqual(await ids({ user: 'u1' }), [c.id, a.id]);
        assert.deepEqual(await ids({ session: 's1' }), [e.id, a.id]);
        assert.deepEqual(await ids({ feature: 'f2' }), [d.id]);
        assert.deepEqual(await ids({ key: 'k1' }), [a.id]);
        assert.deepEqual(await ids({ since: 300 }), [e.id, d.id, c.id], 'since is inclusive');
        assert.deepEqual(await ids({ until: 300 }), [b.id, a.id], 'until is exclusive');
        assert.deepEqual(await ids({ since: 200, until: 400 }), [c.id, b.id]);
        assert.deepEqual(await ids({ route: 'chat', status: 'error', since: 100 }), [e.id]);
        assert.deepEqual(await ids({ user: 'u1', route: 'chat' }), [a.id]);
        assert.deepEqual(await ids({ user: 'nobody' }), []);
        assert.deepEqual(await ids({ limit: 2 }), [e.id, d.id]);
      }),
    );

    test(
      'text search: case-insensitive substring of request or response',
      withStore(async (store) => {
        const a = trace({ request: { messages: [{ role: 'user', content: 'What is the REFUND Policy?' }] } });
        const b = trace({
          response: { choices: [{ message: { content: 'Ticket #4521 opened, 50%_off' } }] },
        });
        const c = trace({ request: 'plain text body about Ünïcödé', response: undefined });
        delete c.response;
        const d = trace({ request: { n: 123456 } });
        delete d.response;
        await store.writeBatch([a, b, c, d]);
        const ids = async (text: string) => (await store.list({ text })).traces.map((t) => t.id).sort();
        assert.deepEqual(await ids('refund policy'), [a.id]);
        assert.deepEqual(await ids('REFUND'), [a.id]);
        assert.deepEqual(await ids('#4521'), [b.id]);
        assert.deepEqual(await ids('50%_off'), [b.id], 'no LIKE wildcards');
        assert.deepEqual(await ids('5%off'), []);
        assert.deepEqual(await ids('ÜNÏCÖDÉ'), [c.id]);
        assert.deepEqual(await ids('general kenobi'), [a.id], 'the response counts too');
        assert.deepEqual(await ids('3456'), [d.id], 'numbers are searchable');
        assert.deepEqual(await ids('no such words'), []);
        assert.equal((await store.list({ text: '' })).traces.length, 4, 'empty text filters nothing');
        assert.deepEqual(
          (await store.list({ text: 'refund', route: 'other' })).traces,
          [],
          'text combines with filters',
        );
      }),
    );

    test(
      'pagination over 120 traces: no duplicates, no gaps, stable while new traces arrive',
      withStore(async (store) => {
        // Ties on startedAt (three per millisecond), ids not in time order: the id breaks ties.
        const traces = Array.from({ length: 120 }, (_, i) =>
          trace({
            id: `p_${String((i * 37) % 120).padStart(3, '0')}`,
            startedAt: 10_000 + Math.floor(i / 3),
          }),
        );
        await store.writeBatch(traces.slice(0, 60));
        await store.writeBatch(traces.slice(60));
        const expected = [...traces].sort(newestFirst).map((t) => t.id);

        const { ids, sizes } = await allPages(store, { limit: 7 });
        assert.equal(new Set(ids).size, 120);
        assert.deepEqual(ids, expected);
        assert.deepEqual(sizes, [...Array(17).fill(7), 1]);

        const exact = await allPages(store, { limit: 40 });
        assert.deepEqual(exact.sizes, [40, 40, 40], 'a full last page has no next cursor');

        const chat = traces.filter((_, i) => i % 2 === 0);
        for (const t of traces) if (!chat.includes(t)) t.route = 'other';
        await store.writeBatch(traces);
        assert.deepEqual(
          (await allPages(store, { route: 'chat', limit: 9 })).ids,
          [...chat].sort(newestFirst).map((t) => t.id),
        );

        // Keyset pages: traces written after the first page do not shift the rest.
        const first = await store.list({ limit: 10 });
        await store.writeBatch(Array.from({ length: 5 }, (_, i) => trace({ startedAt: 50_000 + i })));
        const rest = await allPages(store, { limit: 10, cursor: first.nextCursor ?? '' });
        assert.deepEqual([...first.traces.map((t) => t.id), ...rest.ids], expected);
      }),
    );

    test(
      'page size: default 50, at most 500; a bad cursor is refused',
      withStore(async (store) => {
        await store.writeBatch(Array.from({ length: 520 }, (_, i) => trace({ startedAt: i })));
        assert.equal((await store.list({})).traces.length, 50);
        assert.equal((await store.list({ limit: 10_000 })).traces.length, 500);
        assert.equal((await store.list({ limit: 0 })).traces.length, 1);
        await assert.rejects(
          store.list({ cursor: 'not-a-cursor' }),
          /cursor: not a cursor from a previous page/,
        );
      }),
    );

    test(
      'stats: exact figures per route, per target and in total',
      withStore(async (store) => {
        const { traces, since, until, expected } = statsFixture();
        await store.writeBatch(traces);
        const stats = await store.stats(since, until);
        const check = (actual: StatsRow, want: StatsRow) => assert.deepEqual(actual, want, want.name);
        assert.equal(stats.since, since);
        assert.equal(stats.until, until);
        check(stats.total, expected.total);
        assert.deepEqual(
          stats.routes.map((r) => r.name),
          expected.routes.map((r) => r.name),
        );
        expected.routes.forEach((r, i) => {
          check(stats.routes[i]!, r);
        });
        assert.deepEqual(
          stats.targets.map((r) => r.name),
          expected.targets.map((r) => r.name),
        );
        expected.targets.forEach((r, i) => {
          check(stats.targets[i]!, r);
        });

        const empty = await store.stats(0, 1);
        assert.deepEqual(empty.routes, []);
        assert.deepEqual(empty.targets, []);
        assert.equal(empty.total.requests, 0);
        assert.equal(empty.total.successRate, 0);
        assert.equal(empty.total.p99Ms, 0);
      }),
    );

    test(
      'stats per caller: cost and requests by key, user and feature, costliest first',
      withStore(async (store) => {
        await store.writeBatch([
          trace({ startedAt: 10, user: 'ann', key: 'team-a', feature: 'faq', costUsd: 0.5 }),
          trace({
            startedAt: 11,
            user: 'ann',
            key: 'team-a',
            costUsd: 0.25,
            outcome: 'error',
            decision: 'error',
          }),
          trace({ startedAt: 12, user: 'bob', key: 'team-b', feature: 'faq', costUsd: 2 }),
          trace({ startedAt: 13, costUsd: 9 }),
        ]);
        const stats = await store.stats(0, 100);
        const brief = (rows: StatsRow[]) =>
          rows.map((r) => `${r.name}:${r.requests}:${r.errors}:${r.costUsd}`);
        assert.deepEqual(brief(stats.users), ['bob:1:0:2', 'ann:2:1:0.75']);
        assert.deepEqual(brief(stats.keys), ['team-b:1:0:2', 'team-a:2:1:0.75']);
        assert.deepEqual(brief(stats.features), ['faq:2:0:2.5']);
      }),
    );

    test(
      'prune by age and by row count',
      withStore(async (store) => {
        const day = 86_400_000;
        const now = 100 * day;
        const ages = [10, 5, 1, 0.5, 0];
        const traces = ages.map((d) => trace({ startedAt: now - d * day }));
        await store.writeBatch(traces);
        assert.equal(await store.prune({ maxAgeMs: 3 * day, maxRows: 1_000, now }), 2);
        assert.equal(await store.get(traces[0]!.id), undefined);
        assert.equal(await store.get(traces[1]!.id), undefined);
        assert.ok(await store.get(traces[2]!.id));
        assert.equal((await store.stats(0, now + 1)).targets[0]?.requests, 3, 'their spans went too');
        assert.equal(await store.prune({ maxAgeMs: 3 * day, maxRows: 1_000, now }), 0);

        assert.equal(await store.prune({ maxAgeMs: 3 * day, maxRows: 1, now }), 2);
        assert.deepEqual(
          (await store.list({})).traces.map((t) => t.id),
          [traces[4]!.id],
          'the newest is kept',
        );

        const more = Array.from({ length: 10 }, (_, i) => trace({ startedAt: now + i }));
        await store.writeBatch(more);
        assert.equal(await store.prune({ maxAgeMs: 3 * day, maxRows: 4, now }), 7);
        assert.deepEqual(
          (await store.list({})).traces.map((t) => t.id),
          more
            .slice(6)
            .map((t) => t.id)
            .reverse(),
        );
      }),
    );
  });
}
