import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerReviewCommands } from '../../src/cli/review.ts';
import type { AuditInput } from '../../src/edge/audit/audit.ts';
import { evalCaseSchema } from '../../src/evals/case.ts';
import { MemoryReviewStore } from '../../src/review/memory-store.ts';
import type { NewReviewItem } from '../../src/review/store.ts';
import { adminGuard } from '../../src/server/control-admin.ts';
import { errorHandler } from '../../src/server/errors.ts';
import { registerReviewAdmin } from '../../src/server/review-admin.ts';
import { runCli, servedForCli } from '../helpers/cli.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { escalated, flagged } from './contract.ts';

const ADMIN = 'admin-secret';
const auth = { authorization: `Bearer ${ADMIN}` };

async function build(options: { redact?: (item: NewReviewItem) => NewReviewItem } = {}) {
  const store = new MemoryReviewStore();
  const clock = new FakeClock(1_700_000_000_000);
  const audited: AuditInput[] = [];
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler(1_000_000));
  registerReviewAdmin(app, {
    store,
    guard: adminGuard(ADMIN),
    clock,
    redact: options.redact,
    audit: {
      append: async (entry) => {
        audited.push(entry);
        return {} as never;
      },
    },
  });
  await app.ready();
  return { app, store, clock, audited };
}

describe('review admin API', () => {
  test('every endpoint needs the admin key', async () => {
    const { app } = await build();
    for (const [method, url] of [
      ['POST', '/admin/review'],
      ['GET', '/admin/review'],
      ['GET', '/admin/review/export'],
      ['GET', '/admin/review/rev_0000000000000000'],
      ['POST', '/admin/review/rev_0000000000000000/resolve'],
    ] as const) {
      const res = await app.inject({ method, url, headers: { authorization: 'Bearer nope' } });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
    }
    await app.close();
  });

  test('enqueue (redacted), list with counts, show, resolve, export JSONL', async () => {
    const redact = (item: NewReviewItem): NewReviewItem =>
      JSON.parse(JSON.stringify(item).replaceAll('ada@example.com', '<EMAIL_1>')) as NewReviewItem;
    const { app, store, clock, audited } = await build({ redact });
    const created = await app.inject({
      method: 'POST',
      url: '/admin/review',
      headers: auth,
      payload: escalated('I am ada@example.com, where is my order?'),
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().item.id as string;
    assert.equal((await store.get(id))?.input.messages?.[0]?.content, 'I am <EMAIL_1>, where is my order?');
    assert.equal((await store.get(id))?.createdAt, clock.now());
    await clock.advance(1000);
    const other = await store.enqueue(flagged('later'), clock.now());

    const list = await app.inject({ method: 'GET', url: '/admin/review?status=open', headers: auth });
    assert.deepEqual(
      list.json().items.map((i: { id: string }) => i.id),
      [other.id, id],
    );
    assert.deepEqual(list.json().counts, { open: 2, resolved: 0, rejected: 0 });

    const show = await app.inject({ method: 'GET', url: `/admin/review/${id}`, headers: auth });
    assert.equal(show.json().item.reason, 'escalated');

    const resolved = await app.inject({
      method: 'POST',
      url: `/admin/review/${id}/resolve`,
      headers: { ...auth, 'x-keel-actor': 'ann' },
      payload: { answer: 'It ships tomorrow.', note: 'checked the order' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    assert.deepEqual(
      [resolved.json().item.status, resolved.json().item.answer, resolved.json().item.resolvedBy],
      ['resolved', 'It ships tomorrow.', 'ann'],
    );
    const rejected = await app.inject({
      method: 'POST',
      url: `/admin/review/${other.id}/resolve`,
      headers: { ...auth, 'x-keel-actor': 'bob' },
      payload: { reject: true },
    });
    assert.equal(rejected.json().item.status, 'rejected');
    assert.deepEqual(
      audited.map((a) => [a.who, a.action, a.subject, a.reason]),
      [
        ['ann', 'review.resolve', `review:${id}`, 'checked the order'],
        ['bob', 'review.reject', `review:${other.id}`, undefined],
      ],
    );

    const exported = await app.inject({ method: 'GET', url: '/admin/review/export', headers: auth });
    assert.equal(exported.statusCode, 200);
    assert.match(exported.headers['content-type'] as string, /^application\/x-ndjson/);
    const lines = exported.body.trimEnd().split('\n');
    assert.equal(lines.length, 1, 'the rejected item does not export');
    assert.deepEqual(JSON.parse(lines[0]!), {
      id,
      input: {
        messages: [{ role: 'user', content: 'I am <EMAIL_1>, where is my order?' }],
        variables: { question: 'I am <EMAIL_1>, where is my order?' },
      },
      expected: 'It ships tomorrow.',
      contexts: ['Orders ship in 2 days.'],
      tags: ['escalated', 'feature:support-reply', 'route:chat'],
    });
    assert.equal(
      evalCaseSchema.safeParse(JSON.parse(lines[0]!)).success,
      true,
      "the eval harness's case format",
    );
    const asJson = await app.inject({
      method: 'GET',
      url: `/admin/review/export?format=json&ids=${id}`,
      headers: auth,
    });
    assert.deepEqual(asJson.json().cases, [JSON.parse(lines[0]!)]);
    await app.close();
  });

  test('bad requests name the problem', async () => {
    const { app, store } = await build();
    const item = await store.enqueue(escalated('q'), 1);
    const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
      app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    const cases: Array<[Awaited<ReturnType<typeof call>>, number, RegExp]> = [
      [
        await call('GET', '/admin/review/rev_0000000000000000'),
        404,
        /^no review item "rev_0000000000000000"$/,
      ],
      [await call('GET', '/admin/review/..%2Fetc'), 404, /^no review item/],
      [await call('GET', '/admin/review?status=pending'), 400, /^status: must be one of|^status: /],
      [await call('GET', '/admin/review?limit=0'), 400, /^limit: /],
      [
        await call('POST', `/admin/review/${item.id}/resolve`, {}),
        400,
        /^answer: required: the right answer, or send reject: true$/,
      ],
      [
        await call('POST', `/admin/review/${item.id}/resolve`, { answer: ' ' }),
        400,
        /^answer: must not be empty$/,
      ],
      [
        await call('POST', `/admin/review/${item.id}/resolve`, { answer: 'a', reject: true }),
        400,
        /^reject: give an answer or reject: true, not both$/,
      ],
      [
        await call('POST', '/admin/review', { reason: 'flagged', input: {} }),
        400,
        /^input: give messages, variables or both$/,
      ],
      [await call('POST', '/admin/review', { reason: 'bored', input: { variables: {} } }), 400, /^reason: /],
    ];
    for (const [res, status, message] of cases) {
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json().error.message, message);
    }
    await call('POST', `/admin/review/${item.id}/resolve`, { answer: 'a' });
    const twice = await call('POST', `/admin/review/${item.id}/resolve`, { reject: true });
    assert.equal(twice.statusCode, 400);
    assert.equal(twice.json().error.message, `review item ${item.id} is already resolved by admin`);
    const open = await store.enqueue(escalated('still open'), 2);
    const exportOpen = await call('GET', `/admin/review/export?ids=${open.id}`);
    assert.equal(exportOpen.statusCode, 400);
    assert.match(exportOpen.json().error.message, /is open: only resolved items export/);
    await app.close();
  });
});

describe('keel review CLI against a running admin API', () => {
  const served = servedForCli(build, ADMIN, 'keel-review-cli-');

  function keel(...args: string[]): Promise<{ out: string; err: string }> {
    return runCli(registerReviewCommands, [...args, '--url', served.url, '--who', 'reviewer']);
  }

  test('list, show, resolve, reject, export', async () => {
    const a = await served.ctx.store.enqueue(escalated('Where is my order?'), 1_700_000_000_000);
    const b = await served.ctx.store.enqueue(flagged('Can I get a refund?'), 1_700_000_001_000);

    const list = (await keel('review', 'list')).out;
    assert.match(list, /^id\s+created\s+status\s+reason\s+feature\s+input\n/);
    const rows = list.split('\n').slice(2, 4);
    assert.match(
      rows[0]!,
      new RegExp(`^${b.id}\\s+2023-11-14 22:13:21\\s+open\\s+flagged\\s+-\\s+Can I get a refund\\?$`),
    );
    assert.match(
      rows[1]!,
      new RegExp(`^${a.id}\\s+.*open\\s+escalated\\s+support-reply\\s+Where is my order\\?$`),
    );
    assert.match(list, /\n\n2 open, 0 resolved, 0 rejected$/);

    const show = (await keel('review', 'show', b.id)).out;
    assert.match(show, new RegExp(`^${b.id}  open  \\(flagged\\)`));
    assert.match(show, /\n {2}\[user\] Can I get a refund\?\n/);
    assert.match(show, /\nanswer given:\n {2}I cannot help with that\.\n/);
    assert.match(show, /\nvalidation: \{"failed":\["json_schema"\]/);

    await assert.rejects(keel('review', 'resolve', a.id), /give exactly one of --answer TEXT or --reject/);
    assert.match(
      (await keel('review', 'resolve', a.id, '--answer', 'It ships tomorrow.')).out,
      /^resolved rev_/,
    );
    assert.equal(
      (await keel('review', 'resolve', b.id, '--reject', '--note', 'spam')).out,
      `rejected ${b.id}`,
    );
    assert.equal((await served.ctx.store.get(b.id))?.resolvedBy, 'reviewer');
    await assert.rejects(
      keel('review', 'resolve', a.id, '--reject'),
      /400: review item .* is already resolved by reviewer/,
    );
    assert.match((await keel('review', 'list', 'resolved')).out, new RegExp(`${a.id}\\s+.*resolved`));
    assert.match((await keel('review', 'show', b.id)).out, /\nrejected by reviewer at .*\nnote: spam$/);

    const out = join(served.dir, 'golden.jsonl');
    assert.equal((await keel('review', 'export', '--out', out)).err, `wrote 1 golden case to ${out}`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as { id: string; expected: string }).map((c) => [c.id, c.expected]),
      [[a.id, 'It ships tomorrow.']],
    );
    await assert.rejects(keel('review', 'show', 'rev_ffffffffffffffff'), /404: no review item/);
  });
});
