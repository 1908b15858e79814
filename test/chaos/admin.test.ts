import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Chaos, type ChaosAuditSink, createChaos } from '../../src/chaos/setup.ts';
import { ChaosProvider } from '../../src/chaos/wrap.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { KeelConfig } from '../../src/config/schema.ts';
import type { AuditLog } from '../../src/edge/audit/audit.ts';
import { createProviders } from '../../src/providers/registry.ts';
import { adminGuard } from '../../src/server/control-admin.ts';
import { errorHandler } from '../../src/server/errors.ts';

const yaml = (enabled: boolean) => `
chaos: { enabled: ${enabled} }
telemetry: { store: { type: none } }
control: { store: { type: memory } }
providers: { sim: { type: simulated } }
models:
  primary: { provider: sim, model: p }
  backup: { provider: sim, model: b }
  unused: { provider: sim, model: u }
routes:
  chat: { targets: [{ model: primary }, { model: backup }] }
`;

// The gateway passes `edge.audit` as the audit sink: this line fails the typecheck if that stops fitting.
export const edgeAuditFits = (audit: AuditLog): ChaosAuditSink => audit;

interface Audited {
  who: string;
  action: string;
  subject: string;
  reason?: string | undefined;
}

/** An admin app wired as the gateway does it: createChaos().register with the live config. */
function setup(enabled: boolean, adminKey?: string) {
  const live: { config: KeelConfig } = { config: parseConfig(yaml(enabled), { env: {} }) };
  const chaos: Chaos = createChaos();
  const app: FastifyInstance = Fastify({ logger: false });
  app.setErrorHandler(errorHandler(1024 * 1024));
  const audit: Audited[] = [];
  chaos.register(app, {
    live,
    guard: adminGuard(adminKey),
    audit: {
      append: async (entry) => {
        audit.push({ who: entry.who, action: entry.action, subject: entry.subject, reason: entry.reason });
      },
    },
  });
  return { app, chaos, live, audit };
}

const post = (a: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  a.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });

describe('chaos admin API', () => {
  test('chaos disabled: inject is refused with KEEL_UNSUPPORTED, nothing is wrapped, list still answers', async () => {
    const { app, chaos, live } = setup(false);
    const res = await post(app, '/admin/chaos/inject', { target: 'primary', status: 503 });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error, {
      message: 'chaos is disabled: set chaos.enabled: true in keel.yaml',
      type: 'invalid_request_error',
      param: null,
      code: 'KEEL_UNSUPPORTED',
    });
    assert.deepEqual(chaos.controller.list(), []);
    const providers = createProviders(live.config);
    assert.equal(chaos.wrap(providers, live.config), providers, 'zero cost when disabled: the same map');
    const list = await app.inject({ method: 'GET', url: '/admin/chaos' });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json(), { enabled: false, targets: ['primary', 'backup'], faults: [] });
    await app.close();
  });

  test('chaos enabled: inject, list and clear work, audited with who and why', async () => {
    const { app, chaos, live, audit } = setup(true);
    const wrapped = chaos.wrap(createProviders(live.config), live.config);
    assert.ok([...wrapped.values()].every((p) => p instanceof ChaosProvider));

    const res = await post(
      app,
      '/admin/chaos/inject',
      { target: 'primary', errorRate: 0.3, status: 503, durationMs: 60_000, reason: 'game day' },
      { 'x-keel-actor': 'alice' },
    );
    assert.equal(res.statusCode, 200, res.body);
    const { injected } = res.json();
    assert.equal(injected.target, 'primary');
    assert.equal(injected.description, 'error 503 p=0.3');
    assert.ok(injected.until > Date.now() + 50_000);
    assert.equal(chaos.controller.affected('primary'), 'error 503 p=0.3');

    const list = (await app.inject({ method: 'GET', url: '/admin/chaos' })).json();
    assert.equal(list.enabled, true);
    assert.deepEqual(
      list.faults.map((f: { target: string }) => f.target),
      ['primary'],
    );

    await post(app, '/admin/chaos/inject', { target: 'backup', latencyMs: 100 });
    const one = await post(app, '/admin/chaos/clear', { target: 'primary' });
    assert.equal(one.json().cleared, 1);
    const all = await app.inject({ method: 'POST', url: '/admin/chaos/clear' });
    assert.equal(all.statusCode, 200, 'clear needs no body');
    assert.equal(all.json().cleared, 1);
    assert.deepEqual(chaos.controller.list(), []);
    assert.deepEqual(audit, [
      { who: 'alice', action: 'chaos.inject', subject: 'target:primary', reason: 'game day' },
      { who: 'admin', action: 'chaos.inject', subject: 'target:backup', reason: undefined },
      { who: 'admin', action: 'chaos.clear', subject: 'target:primary', reason: undefined },
      { who: 'admin', action: 'chaos.clear', subject: 'target:backup', reason: undefined },
    ]);
    await app.close();
  });

  test('a reload that turns chaos off refuses injection and clears what was injected', async () => {
    const { app, chaos, live } = setup(true);
    assert.equal(
      (await post(app, '/admin/chaos/inject', { target: 'primary', status: 503 })).statusCode,
      200,
    );
    live.config = parseConfig(yaml(false), { env: {} });
    const providers = createProviders(live.config);
    assert.equal(chaos.wrap(providers, live.config), providers);
    assert.deepEqual(chaos.controller.list(), []);
    const res = await post(app, '/admin/chaos/inject', { target: 'primary', status: 503 });
    assert.equal(res.json().error.code, 'KEEL_UNSUPPORTED');
    await app.close();
  });

  test('bad injections are 400s that name the problem', async () => {
    const { app } = setup(true);
    const cases: Array<[unknown, RegExp]> = [
      [
        { target: 'primay', status: 503 },
        /target: "primay" is not a model of this gateway's routes \(did you mean "primary"\?\)/,
      ],
      [{ target: 'unused', status: 503 }, /not a model of this gateway's routes/],
      [{ target: 'primary' }, /the fault does nothing/],
      [{ target: 'primary', errorRate: 2 }, /errorRate/],
      [{ target: 'primary', status: 200 }, /status/],
      [{ target: 'primary', status: 503, colour: 'red' }, /unknown field\(s\) colour/],
      [{ target: 'primary', status: 503, until: 1000 }, /until: is in the past/],
      [{ status: 503 }, /target: required/],
    ];
    for (const [body, message] of cases) {
      const res = await post(app, '/admin/chaos/inject', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'KEEL_INVALID_REQUEST');
      assert.match(res.json().error.message, message, JSON.stringify(body));
    }
    await app.close();
  });

  test('the admin guard applies: with an admin key, no key no chaos; closing the app clears faults', async () => {
    const { app, chaos } = setup(true, 'admin-secret');
    const refused = await post(app, '/admin/chaos/inject', { target: 'primary', status: 503 });
    assert.equal(refused.statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/admin/chaos' })).statusCode, 401);
    const ok = await post(
      app,
      '/admin/chaos/inject',
      { target: 'primary', status: 503 },
      { authorization: 'Bearer admin-secret' },
    );
    assert.equal(ok.statusCode, 200);
    assert.equal(chaos.controller.list().length, 1);
    await app.close();
    assert.deepEqual(chaos.controller.list(), []);
  });

  test('without an admin key, only loopback clients may inject', async () => {
    const { app } = setup(true);
    const res = await app.inject({
      method: 'POST',
      url: '/admin/chaos/inject',
      payload: { target: 'primary', status: 503 },
      remoteAddress: '10.0.0.7',
    });
    assert.equal(res.statusCode, 401);
    await app.close();
  });
});
