import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseExpiry, registerControlCommands } from '../../../src/cli/control.ts';
import { ConfigReloader } from '../../../src/config/reload.ts';
import type { KeelConfig } from '../../../src/config/schema.ts';
import { AuditLog } from '../../../src/edge/audit/audit.ts';
import { MemoryControlStore } from '../../../src/edge/control-store/memory.ts';
import { Keys } from '../../../src/edge/keys/keys.ts';
import { KillSwitches } from '../../../src/edge/kill/switches.ts';
import { adminGuard, registerControlAdmin } from '../../../src/server/control-admin.ts';
import { errorHandler } from '../../../src/server/errors.ts';
import { runCli } from '../../helpers/cli.ts';

const ADMIN = 'admin-secret';
const auth = { authorization: `Bearer ${ADMIN}` };

const yaml = (routes: string) => `
providers:
  sim: { type: simulated }
models:
  local: { provider: sim, model: local }
  backup: { provider: sim, model: backup }
routes:
${routes}
`;

async function build(options: { withReloader?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-admin-'));
  const path = join(dir, 'keel.yaml');
  writeFileSync(
    path,
    yaml('  chat: { targets: [{ model: local }] }\n  batch: { targets: [{ model: backup }] }'),
  );
  const store = new MemoryControlStore();
  const audit = new AuditLog(store);
  const keys = new Keys(store, audit);
  const kill = new KillSwitches(store, audit, { refreshMs: 0 });
  let running: KeelConfig | undefined;
  const reloader = new ConfigReloader({
    path,
    store,
    audit,
    env: {},
    watch: false,
    onApply: (c) => {
      running = c;
    },
  });
  running = await reloader.start();
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler(1_000_000));
  registerControlAdmin(app, {
    keys,
    kill,
    audit,
    reloader: options.withReloader === false ? undefined : reloader,
    guard: adminGuard(ADMIN),
    knownRoutes: () => Object.keys(running?.routes ?? {}),
    knownTargets: () => Object.keys(running?.models ?? {}),
  });
  await app.ready();
  return { app, path, store, keys, kill, audit, reloader, running: () => running };
}

describe('control admin API', () => {
  test('every endpoint needs the admin key', async () => {
    const { app } = await build();
    const endpoints: Array<[string, string]> = [
      ['POST', '/admin/keys'],
      ['GET', '/admin/keys'],
      ['DELETE', '/admin/keys/x'],
      ['POST', '/admin/kill'],
      ['POST', '/admin/unkill'],
      ['GET', '/admin/kill'],
      ['GET', '/admin/audit'],
      ['GET', '/admin/config/versions'],
      ['GET', '/admin/config/versions/1'],
      ['POST', '/admin/config/rollback'],
    ];
    for (const [method, url] of endpoints) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(method === 'POST' ? { payload: {} } : {}),
        });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
        assert.equal(res.json().error.code, 'KEEL_UNAUTHORIZED');
      }
    }
    await app.close();
  });

  test('keys: create returns the secret once, list never shows it, revoke works, all audited', async () => {
    const { app, keys } = await build();
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { ...auth, 'x-keel-actor': 'ann' },
      payload: {
        name: 'app',
        routes: ['chat'],
        rpm: 60,
        budgetUsd: 5,
        budgetPeriod: 'day',
        reason: 'new app',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json() as { key: { id: string; prefix: string }; secret: string; warning: string };
    assert.match(body.secret, /^sk-keel-/);
    assert.match(body.warning, /cannot be shown again/);
    assert.equal((await keys.authenticate(`Bearer ${body.secret}`)).name, 'app');

    const list = await app.inject({ method: 'GET', url: '/admin/keys', headers: auth });
    assert.equal(list.statusCode, 200);
    assert.ok(!list.body.includes(body.secret.slice(8)));
    assert.ok(!list.body.includes('"hash"'));
    assert.deepEqual(
      list
        .json()
        .keys.map((k: { name: string; status: string; prefix: string }) => [k.name, k.status, k.prefix]),
      [['app', 'active', body.key.prefix]],
    );

    const revoked = await app.inject({
      method: 'DELETE',
      url: '/admin/keys/app?reason=leaked',
      headers: { ...auth, 'x-keel-actor': 'bob' },
    });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().key.status, 'revoked');
    await assert.rejects(keys.authenticate(`Bearer ${body.secret}`));
    const missing = await app.inject({ method: 'DELETE', url: '/admin/keys/nope', headers: auth });
    assert.equal(missing.statusCode, 404);

    const audit = await app.inject({ method: 'GET', url: '/admin/audit?since=1h', headers: auth });
    assert.deepEqual(
      audit
        .json()
        .entries.map((e: { who: string; action: string; reason: string | null }) => [
          e.who,
          e.action,
          e.reason,
        ]),
      [
        ['bob', 'key.revoke', 'leaked'],
        ['ann', 'key.create', 'new app'],
        ['system:startup', 'config.apply', null],
      ],
    );
    await app.close();
  });

  test('keys: bad bodies are 400s naming the field; unknown routes get a suggestion', async () => {
    const { app } = await build();
    const cases: Array<[unknown, RegExp]> = [
      [{}, /name: required/],
      [{ name: 'a', rpm: '5' }, /rpm: expected number, got string/],
      [{ name: 'a', extra: 1 }, /unknown field\(s\) extra/],
      [{ name: 'a', routes: ['chta'] }, /routes\[0\]: unknown route "chta" \(did you mean "chat"\?\)/],
      [{ name: 'a', expiresAt: 1 }, /expiresAt: must be in the future/],
      [{ name: 'a', budgetPeriod: 'week' }, /budgetPeriod/],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: auth,
        payload: payload as object,
      });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(res.json().error.message, message);
    }
    await app.close();
  });

  test('kill: known names only for routes and targets, reason required, flips at once, unkill', async () => {
    const { app, kill } = await build();
    const post = (url: string, payload: object, actor = 'ann') =>
      app.inject({ method: 'POST', url, headers: { ...auth, 'x-keel-actor': actor }, payload });

    const noReason = await post('/admin/kill', { scope: 'route', name: 'chat' });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.json().error.message, /reason/);
    const blankReason = await post('/admin/kill', { scope: 'route', name: 'chat', reason: '  ' });
    assert.equal(blankReason.statusCode, 400);
    const unknownRoute = await post('/admin/kill', { scope: 'route', name: 'chta', reason: 'x' });
    assert.equal(unknownRoute.statusCode, 400);
    assert.match(unknownRoute.json().error.message, /unknown route "chta" \(did you mean "chat"\?\)/);
    const unknownTarget = await post('/admin/kill', { scope: 'target', name: 'gpt-9', reason: 'x' });
    assert.match(unknownTarget.json().error.message, /unknown target "gpt-9"/);
    const badScope = await post('/admin/kill', { scope: 'region', name: 'eu', reason: 'x' });
    assert.equal(badScope.statusCode, 400);

    const killed = await post('/admin/kill', { scope: 'route', name: 'chat', reason: 'runaway cost' });
    assert.equal(killed.statusCode, 200, killed.body);
    assert.equal(kill.isKilled('route', 'chat'), true, 'the flip is visible to the next request');
    // Tools and features are free-form names.
    assert.equal((await post('/admin/kill', { scope: 'tool', name: 'shell', reason: 'x' })).statusCode, 200);
    assert.equal(
      (await post('/admin/kill', { scope: 'target', name: 'backup', reason: 'x' })).statusCode,
      200,
    );

    const listed = await app.inject({ method: 'GET', url: '/admin/kill', headers: auth });
    assert.deepEqual(
      listed
        .json()
        .kills.map((k: { scope: string; name: string; who: string }) => `${k.scope}:${k.name}:${k.who}`),
      ['route:chat:ann', 'tool:shell:ann', 'target:backup:ann'],
    );

    const unkilled = await post('/admin/unkill', { scope: 'route', name: 'chat', reason: 'fixed' }, 'bob');
    assert.equal(unkilled.statusCode, 200);
    assert.equal(kill.isKilled('route', 'chat'), false);
    const again = await post('/admin/unkill', { scope: 'route', name: 'chat' });
    assert.equal(again.statusCode, 404);

    const audit = await app.inject({ method: 'GET', url: '/admin/audit?limit=2', headers: auth });
    assert.deepEqual(
      audit
        .json()
        .entries.map((e: { who: string; action: string; subject: string }) => [e.who, e.action, e.subject]),
      [
        ['bob', 'unkill', 'route:chat'],
        ['ann', 'kill', 'target:backup'],
      ],
    );
    await app.close();
  });

  test('config: versions, one version with its YAML, rollback; 400 without a reloader', async () => {
    const { app, path, reloader, running } = await build();
    writeFileSync(path, yaml('  chat: { targets: [{ model: backup }] }'));
    await reloader.reload();
    const versions = await app.inject({ method: 'GET', url: '/admin/config/versions', headers: auth });
    assert.deepEqual(
      versions.json().versions.map((v: { id: number; live: boolean }) => [v.id, v.live]),
      [
        [2, true],
        [1, false],
      ],
    );
    assert.ok(!versions.body.includes('providers:'), 'the list carries no YAML');
    const one = await app.inject({ method: 'GET', url: '/admin/config/versions/1', headers: auth });
    assert.match(one.json().yaml, /batch:/);
    assert.equal(
      (await app.inject({ method: 'GET', url: '/admin/config/versions/x', headers: auth })).statusCode,
      404,
    );

    const rolled = await app.inject({
      method: 'POST',
      url: '/admin/config/rollback',
      headers: { ...auth, 'x-keel-actor': 'ann' },
      payload: {},
    });
    assert.equal(rolled.statusCode, 200, rolled.body);
    assert.deepEqual([rolled.json().status, rolled.json().version.id], ['applied', 1]);
    assert.equal(rolled.json().config, undefined, 'the parsed config is never returned');
    assert.deepEqual(Object.keys(running()?.routes ?? {}), ['chat', 'batch']);
    const none = await app.inject({
      method: 'POST',
      url: '/admin/config/rollback',
      headers: auth,
      payload: {},
    });
    assert.equal(none.statusCode, 400);
    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/config/rollback',
      headers: auth,
      payload: { version: 42 },
    });
    assert.equal(unknown.statusCode, 404);
    await app.close();

    const bare = await build({ withReloader: false });
    const res = await bare.app.inject({ method: 'GET', url: '/admin/config/versions', headers: auth });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error.message, /config file/);
    await bare.app.close();
  });

  test('an x-keel-actor that is not a plain name is recorded as "admin"', async () => {
    const { app, audit } = await build();
    await app.inject({
      method: 'POST',
      url: '/admin/kill',
      headers: { ...auth, 'x-keel-actor': 'evil\nname' },
      payload: { scope: 'feature', name: 'f', reason: 'x' },
    });
    assert.equal((await audit.list({ limit: 1 }))[0]?.who, 'admin');
    await app.close();
  });
});

describe('control CLI against a running admin API', () => {
  let ctx: Awaited<ReturnType<typeof build>>;
  let app: FastifyInstance;
  let url: string;
  const saved = { key: process.env.KEEL_ADMIN_KEY };

  before(async () => {
    ctx = await build();
    app = ctx.app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    process.env.KEEL_ADMIN_KEY = ADMIN;
  });
  after(async () => {
    if (saved.key === undefined) delete process.env.KEEL_ADMIN_KEY;
    else process.env.KEEL_ADMIN_KEY = saved.key;
    await app.close();
  });

  function keel(...args: string[]): Promise<{ out: string; err: string }> {
    return runCli(registerControlCommands, [...args, '--url', url, '--who', 'cli-user']);
  }

  test('keys create/list/revoke, kill/unkill, audit, config versions/rollback', async () => {
    const created = await keel('keys', 'create', '--name', 'cli', '--routes', 'chat,batch', '--rpm', '10');
    const secret = /sk-keel-[A-Za-z0-9_-]{43}/.exec(created.out)?.[0];
    assert.ok(secret, created.out);
    assert.match(created.err, /only time the key is shown/);
    assert.equal((await ctx.keys.authenticate(`Bearer ${secret}`)).routes?.join(), 'chat,batch');

    const list = await keel('keys', 'list');
    assert.match(list.out, /^id\s+name\s+key\s+status/);
    assert.match(list.out, /cli\s+sk-keel-.{4}…\s+active\s+chat,batch\s+10 rpm/);
    assert.ok(!list.out.includes(secret!.slice(8)));

    assert.match((await keel('keys', 'revoke', 'cli', '--reason', 'done')).out, /revoked key "cli"/);
    assert.match((await keel('keys', 'list')).out, /revoked/);

    assert.match((await keel('kill', 'route', 'chat', '--reason', 'incident 7')).out, /killed route "chat"/);
    assert.equal(ctx.kill.isKilled('route', 'chat'), true);
    await assert.rejects(keel('kill', 'route', 'chat'), /--reason is required/);
    await assert.rejects(keel('kill', 'route', 'nope', '--reason', 'x'), /400: name: unknown route "nope"/);
    assert.match((await keel('kill')).out, /route\s+chat\s+.*cli-user\s+incident 7/);
    assert.match((await keel('unkill', 'route', 'chat')).out, /back on/);
    assert.equal(ctx.kill.isKilled('route', 'chat'), false);

    const audit = await keel('audit', '--since', '1h');
    assert.match(audit.out, /cli-user\s+unkill\s+route:chat/);
    assert.match(audit.out, /cli-user\s+kill\s+route:chat\s+incident 7/);
    assert.match(audit.out, /cli-user\s+key.revoke/);
    const json = JSON.parse((await keel('audit', '--json')).out) as Array<{ action: string }>;
    assert.equal(json[0]?.action, 'unkill');

    writeFileSync(ctx.path, yaml('  chat: { targets: [{ model: backup }] }'));
    await ctx.reloader.reload();
    const versions = await keel('config', 'versions');
    assert.match(versions.out, /^version\s+live/);
    assert.match(versions.out, /\n2\s+\*/);
    assert.match((await keel('config', 'show', '1')).out, /batch:/);
    assert.match((await keel('config', 'rollback', '--reason', 'bad deploy')).out, /version 1 is live/);
    assert.deepEqual(Object.keys(ctx.running()?.routes ?? {}), ['chat', 'batch']);
    await assert.rejects(keel('config', 'rollback'), /400: no earlier config version/);
  });

  test('--expires accepts a date, an ISO time or a duration', () => {
    assert.equal(parseExpiry('30d', 0), 30 * 86_400_000);
    assert.equal(parseExpiry('2030-01-31'), Date.parse('2030-01-31'));
    assert.equal(parseExpiry('2030-01-31T10:00:00Z'), Date.parse('2030-01-31T10:00:00Z'));
    assert.throws(() => parseExpiry('soon'));
  });
});
