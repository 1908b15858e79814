import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadConfig } from '../../src/config/load.ts';
import { startGateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';

const models = `
providers: { sim: { type: simulated } }
models:
  fast: { provider: sim, model: fast, pricing: { inputPerMTok: 1000, outputPerMTok: 1000 },
          simulate: { ttftMs: { p50: 0, p99: 0 }, reply: "fast answer" } }
  slow: { provider: sim, model: slow, simulate: { ttftMs: { p50: 200, p99: 200 }, reply: "slow answer" } }
  other: { provider: sim, model: other, simulate: { ttftMs: { p50: 0, p99: 0 }, reply: "other answer" } }
`;

/** Two routes behind required keys: `chat`, and `secret` that a key restricted to `chat` may not use. */
const keyedRoutes = `${models}
server: { requireKey: true }
routes:
  chat: { targets: [{ model: fast }] }
  secret: { targets: [{ model: other }] }
`;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as {
    error?: { code: string; message: string };
    choices?: Array<{ message: { content: string } }>;
  };
  return { res, json };
}

const hi = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });

async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('virtual keys', () => {
  test('the auth matrix: missing, bad, revoked, wrong route → 401/403 in OpenAI shape; a good key works', async () => {
    const gw = await gatewayFromYaml(keyedRoutes);
    try {
      const created = await admin(gw.url, 'POST', '/admin/keys', { name: 'team-a', routes: ['chat'] });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const secret = created.json.secret as string;
      assert.match(secret, /^sk-keel-/);
      const listed = JSON.stringify((await admin(gw.url, 'GET', '/admin/keys')).json);
      assert.ok(!listed.includes(secret), 'the secret is shown once, never listed');

      const missing = await post(gw.url, hi('chat'));
      assert.equal(missing.res.status, 401);
      assert.equal(missing.json.error?.code, 'KEEL_UNAUTHORIZED');
      const bad = await post(gw.url, hi('chat'), { authorization: 'Bearer sk-keel-nope' });
      assert.equal(bad.res.status, 401);
      const ok = await post(gw.url, hi('chat'), { authorization: `Bearer ${secret}` });
      assert.equal(ok.res.status, 200);
      assert.equal(ok.json.choices?.[0]?.message.content, 'fast answer');
      const wrongRoute = await post(gw.url, hi('secret'), { authorization: `Bearer ${secret}` });
      assert.equal(wrongRoute.res.status, 403);
      assert.equal(wrongRoute.json.error?.code, 'KEEL_FORBIDDEN');
      const unknownRoute = await post(gw.url, hi('nope'), { authorization: `Bearer ${secret}` });
      assert.equal(unknownRoute.res.status, 403, 'a restricted key cannot probe which routes exist');

      const id = (created.json.key as { id: string }).id;
      assert.equal((await admin(gw.url, 'DELETE', `/admin/keys/${id}`)).status, 200);
      const revoked = await post(gw.url, hi('chat'), { authorization: `Bearer ${secret}` });
      assert.equal(revoked.res.status, 401, 'revocation takes effect on the next request');
      assert.equal(revoked.json.error?.message, bad.json.error?.message, 'no hint which keys exist');

      const audit = (await admin(gw.url, 'GET', '/admin/audit')).json as {
        entries: Array<{ action: string }>;
      };
      const actions = audit.entries.map((e) => e.action);
      assert.ok(actions.includes('key.create') && actions.includes('key.revoke'), actions.join(','));
    } finally {
      await gw.close();
    }
  });

  test('a key’s requests per minute: OpenAI-style headers, then a 429 that says which limit', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: fast }] }
`);
    try {
      const { json } = await admin(gw.url, 'POST', '/admin/keys', { name: 'small', rpm: 3 });
      const auth = { authorization: `Bearer ${json.secret as string}` };
      const first = await post(gw.url, hi('chat'), auth);
      assert.equal(first.res.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(first.res.headers.get('x-ratelimit-remaining-requests'), '2');
      assert.ok(first.res.headers.get('x-ratelimit-reset-requests'));
      await post(gw.url, hi('chat'), auth);
      await post(gw.url, hi('chat'), auth);
      const limited = await post(gw.url, hi('chat'), auth);
      assert.equal(limited.res.status, 429);
      assert.equal(limited.json.error?.code, 'KEEL_RATE_LIMITED');
      assert.match(limited.json.error?.message ?? '', /requests per minute/i);
      assert.ok(Number(limited.res.headers.get('retry-after')) >= 1);
    } finally {
      await gw.close();
    }
  });

  test('a key’s budget: the worst case is reserved, and the 429 says it is the budget', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: fast }] }
`);
    try {
      // $1000 per 1M tokens: a request with max_tokens 10 costs at most ~$0.02; the budget is $0.03.
      const { json } = await admin(gw.url, 'POST', '/admin/keys', {
        name: 'thrifty',
        budgetUsd: 0.03,
        budgetPeriod: 'day',
      });
      const auth = { authorization: `Bearer ${json.secret as string}` };
      const statuses: number[] = [];
      let message = '';
      for (let i = 0; i < 4; i++) {
        const r = await post(gw.url, hi('chat'), auth);
        statuses.push(r.res.status);
        if (r.res.status === 429) message = `${r.json.error?.code}: ${r.json.error?.message}`;
      }
      assert.equal(statuses[0], 200);
      assert.equal(statuses.at(-1), 429, statuses.join(','));
      assert.match(message, /KEEL_BUDGET_EXCEEDED: .*budget/i);
    } finally {
      await gw.close();
    }
  });
});

test('/v1/models lists only what the key may use: a restricted key learns no other route', async () => {
  const gw = await gatewayFromYaml(keyedRoutes);
  try {
    const restricted = await admin(gw.url, 'POST', '/admin/keys', { name: 'team-a', routes: ['chat'] });
    const open = await admin(gw.url, 'POST', '/admin/keys', { name: 'platform' });
    const ids = async (secret: unknown) => {
      const client = new OpenAI({ apiKey: secret as string, baseURL: `${gw.url}/v1`, maxRetries: 0 });
      const page = await client.models.list();
      return page.data.map((m) => m.id).sort();
    };
    assert.deepEqual(await ids(restricted.json.secret), ['chat']);
    assert.deepEqual(await ids(open.json.secret), ['chat', 'secret']);
  } finally {
    await gw.close();
  }
});

describe('kill switches', () => {
  test('a killed route answers its configured fallback on the very next request; unkill restores it', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: fast }], onKill: { message: "Support chat is paused; email us." } }
  plain: { targets: [{ model: fast }] }
`);
    try {
      assert.equal(
        (await admin(gw.url, 'POST', '/admin/kill', { scope: 'route', name: 'chat', reason: 'bad answers' }))
          .status,
        200,
      );
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const { data, response } = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, 'Support chat is paused; email us.');
      assert.equal(response.headers.get('x-keel-decision'), 'killed');

      await admin(gw.url, 'POST', '/admin/kill', { scope: 'route', name: 'plain', reason: 'incident 42' });
      const off = await post(gw.url, hi('plain'));
      assert.equal(off.res.status, 503);
      assert.equal(off.json.error?.code, 'KEEL_KILLED');
      assert.match(off.json.error?.message ?? '', /turned off/);
      assert.equal(off.res.headers.get('x-keel-decision'), 'killed');
      assert.equal(off.res.headers.get('x-keel-attempts'), '0');

      await admin(gw.url, 'POST', '/admin/unkill', { scope: 'route', name: 'plain' });
      assert.equal((await post(gw.url, hi('plain'))).res.status, 200);
    } finally {
      await gw.close();
    }
  });

  test('a killed target is skipped by every chain', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: fast }, { model: other }] }
`);
    try {
      await admin(gw.url, 'POST', '/admin/kill', {
        scope: 'target',
        name: 'fast',
        reason: 'vendor incident',
      });
      const r = await post(gw.url, hi('chat'));
      assert.equal(r.res.status, 200);
      assert.equal(r.json.choices?.[0]?.message.content, 'other answer');
      assert.equal(r.res.headers.get('x-keel-target'), 'other');
    } finally {
      await gw.close();
    }
  });
});

describe('admission control', () => {
  test('over the concurrency limit and queue, requests are shed at once with 429 and Retry-After', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: slow }], concurrency: { max: 2, queue: 2, queueWaitMs: 1000 } }
`);
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 8 }, () => post(gw.url, hi('chat'))));
      const statuses = results.map((r) => r.res.status);
      const shed = results.filter((r) => r.res.status === 429);
      assert.equal(statuses.filter((s) => s === 200).length, 4, statuses.join(','));
      assert.equal(shed.length, 4);
      for (const r of shed) {
        assert.equal(r.json.error?.code, 'KEEL_OVERLOADED');
        assert.ok(r.res.headers.get('retry-after'));
      }
      assert.ok(Date.now() - started < 1500, 'nobody waited for a timeout');
    } finally {
      await gw.close();
    }
  });

  test('x-keel-priority must be high, normal or low', async () => {
    const gw = await gatewayFromYaml(`${models}
routes:
  chat: { targets: [{ model: fast }] }
`);
    try {
      const r = await post(gw.url, hi('chat'), { 'x-keel-priority': 'urgent' });
      assert.equal(r.res.status, 400);
      assert.match(r.json.error?.message ?? '', /x-keel-priority/);
    } finally {
      await gw.close();
    }
  });
});

describe('safe config changes', () => {
  test('an invalid keel.yaml is rejected and the running config keeps serving; a valid one applies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-reload-'));
    const file = join(dir, 'keel.yaml');
    const good = `${models}
telemetry: { store: { type: memory } }
control: { store: { type: memory } }
routes:
  chat: { targets: [{ model: fast }] }
`;
    writeFileSync(file, good);
    const gw = await startGateway({
      config: loadConfig(file, {}),
      configPath: file,
      port: 0,
      env: {},
      logger: false,
    });
    try {
      writeFileSync(file, good.replace('model: fast }]', 'model: fastt }]'));
      const rejected = await gw.reloader!.reload({ who: 'test' });
      assert.equal(rejected.status, 'rejected');
      assert.ok(rejected.status === 'rejected');
      assert.deepEqual(rejected.problems, [
        { path: 'routes.chat.targets[0].model', problem: 'unknown model "fastt" (did you mean "fast"?)' },
      ]);
      assert.equal((await post(gw.url, hi('chat'))).json.choices?.[0]?.message.content, 'fast answer');

      writeFileSync(file, good.replace('model: fast }]', 'model: other }]'));
      const applied = await gw.reloader!.reload({ who: 'test' });
      assert.equal(applied.status, 'applied');
      assert.equal((await post(gw.url, hi('chat'))).json.choices?.[0]?.message.content, 'other answer');

      const rollback = await admin(gw.url, 'POST', '/admin/config/rollback', {});
      assert.equal(rollback.status, 200, JSON.stringify(rollback.json));
      assert.equal((await post(gw.url, hi('chat'))).json.choices?.[0]?.message.content, 'fast answer');
    } finally {
      await gw.close();
    }
  });
});
