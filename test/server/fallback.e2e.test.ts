import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml, twoTargetYaml } from '../helpers/gateway.ts';
import { type Behaviour, type MockUpstream, startMockUpstream, waitFor } from '../helpers/mock-upstream.ts';

/**
 * End to end: the official openai client → Keel → two real HTTP upstreams on loopback. The primary
 * misbehaves in each way a model can; the answer must still come, from the backup, and say so.
 */
describe('fallback when the primary fails', () => {
  let primaryBehaviour: Behaviour = { kind: 'ok' };
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gateway: Gateway;
  let client: OpenAI;

  before(async () => {
    primary = await startMockUpstream(() => primaryBehaviour, { name: 'primary' });
    backup = await startMockUpstream(() => ({ kind: 'ok', text: 'steady answer' }), { name: 'backup' });
    // A breaker that will not open during these cases: each case must be decided by fallback alone.
    gateway = await gatewayFromYaml(
      twoTargetYaml(primary.url, backup.url, {
        breaker: '{ failureRate: 0.99, window: 100, minCalls: 100 }',
      }),
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await primary.close();
    await backup.close();
  });

  const cases: Array<[string, Behaviour]> = [
    ['500', { kind: 'status', status: 500 }],
    ['503', { kind: 'status', status: 503 }],
    ['429 with Retry-After', { kind: 'status', status: 429, headers: { 'retry-after': '30' } }],
    ['a hang', { kind: 'hang' }],
    ['a garbage body', { kind: 'garbage' }],
  ];

  for (const [name, behaviour] of cases) {
    test(`primary answers ${name}: the backup answers, headers say fallback`, async () => {
      primaryBehaviour = behaviour;
      const { data, response } = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, 'steady answer');
      assert.equal(response.headers.get('x-keel-route'), 'chat');
      assert.equal(response.headers.get('x-keel-target'), 'backup');
      assert.equal(response.headers.get('x-keel-decision'), 'fallback');
      assert.equal(response.headers.get('x-keel-attempts'), '2');
      assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
    });
  }

  test('a healthy primary answers itself: decision primary, one attempt', async () => {
    primaryBehaviour = { kind: 'ok', text: 'primary answer' };
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'primary answer');
    assert.equal(response.headers.get('x-keel-decision'), 'primary');
    assert.equal(response.headers.get('x-keel-attempts'), '1');
  });

  test('the hang is cancelled upstream, not merely raced', async () => {
    primaryBehaviour = { kind: 'hang' };
    const n = primary.received.length;
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] });
    assert.ok(
      await waitFor(() => primary.received[n]?.closedEarly === true),
      'Keel closed the hung upstream request',
    );
  });

  test('a client-supplied x-request-id is echoed back', async () => {
    primaryBehaviour = { kind: 'ok' };
    const { response } = await client.chat.completions
      .create(
        { model: 'chat', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-request-id': 'my-trace-42' } },
      )
      .withResponse();
    assert.equal(response.headers.get('x-request-id'), 'my-trace-42');
  });

  test('an upstream 400 is the client’s problem: passed on as 400, no fallback', async () => {
    primaryBehaviour = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message: 'bad tool schema' } }),
    };
    const before = backup.received.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 400);
        assert.match(err.message, /bad tool schema/);
        return true;
      },
    );
    assert.equal(backup.received.length, before, 'the backup was not called');
  });
});

describe('all targets down', () => {
  test('answers a clear 503 naming each target’s failure, quickly', async () => {
    const down = await startMockUpstream(() => ({ kind: 'status', status: 503 }));
    const gateway = await gatewayFromYaml(twoTargetYaml(down.url, down.url));
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
      await assert.rejects(
        client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.APIError);
          assert.equal(err.status, 503);
          assert.equal(err.code, 'KEEL_ALL_TARGETS_FAILED');
          assert.match(err.message, /primary: KEEL_UPSTREAM_ERROR/);
          assert.match(err.message, /backup: KEEL_UPSTREAM_ERROR/);
          // A failure still says what happened: the route, every call made, no target that answered.
          assert.equal(err.headers?.get('x-keel-route'), 'chat');
          assert.equal(err.headers?.get('x-keel-decision'), 'error');
          assert.equal(err.headers?.get('x-keel-attempts'), String(down.received.length));
          assert.equal(err.headers?.get('x-keel-target'), null);
          assert.match(err.headers?.get('x-request-id') ?? '', /^req_/);
          return true;
        },
      );
    } finally {
      await gateway.close();
      await down.close();
    }
  });

  test('every target rate-limited: 429 with Retry-After, not 503', async () => {
    const limited = await startMockUpstream(() => ({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '7' },
    }));
    const gateway = await gatewayFromYaml(twoTargetYaml(limited.url, limited.url));
    try {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '7');
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'KEEL_UPSTREAM_RATE_LIMITED');
    } finally {
      await gateway.close();
      await limited.close();
    }
  });
});
