import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerChaosAdmin } from '../../src/chaos/admin.ts';
import { registerChaosCommands } from '../../src/chaos/cli.ts';
import { ChaosController } from '../../src/chaos/controller.ts';
import { routedModels, wrapRouter } from '../../src/chaos/setup.ts';
import { adminGuard } from '../../src/server/control-admin.ts';
import { errorHandler } from '../../src/server/errors.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml, twoTargetYaml } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';

/**
 * Real HTTP end to end: client → Keel (startGateway) → two real OpenAI-compatible upstreams on
 * loopback, with the gateway's providers wrapped by a ChaosController. The chaos admin API runs on a
 * loopback app of its own over the same controller until startGateway registers it itself.
 */
describe('chaos on a running gateway', () => {
  let primary: MockUpstream | undefined;
  let backup: MockUpstream | undefined;
  let gateway: Gateway | undefined;
  let admin: FastifyInstance | undefined;
  let adminUrl = '';
  const controller = new ChaosController();

  before(async () => {
    primary = await startMockUpstream(() => ({ kind: 'ok', text: 'primary answer here' }), {
      name: 'primary',
    });
    backup = await startMockUpstream(() => ({ kind: 'ok', text: 'backup answer here' }), { name: 'backup' });
    gateway = await gatewayFromYaml(`${twoTargetYaml(primary.url, backup.url)}\nchaos: { enabled: true }\n`);
    wrapRouter(gateway.router, controller);
    const config = gateway.live.config;
    admin = Fastify({ logger: false });
    admin.setErrorHandler(errorHandler(1024 * 1024));
    registerChaosAdmin(admin, {
      controller,
      enabled: () => config.chaos.enabled,
      guard: adminGuard(undefined),
      targets: () => routedModels(config),
    });
    adminUrl = await admin.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    controller.close();
    await admin?.close();
    await gateway?.close();
    await primary?.close();
    await backup?.close();
  });

  const chat = async (stream = false) => {
    const res = await fetch(`${gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream }),
      signal: AbortSignal.timeout(5000),
    });
    return { res, text: await res.text() };
  };
  const post = (path: string, body: unknown) =>
    fetch(`${adminUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });

  test('an injected 503 on the primary makes the backup answer; clearing it brings the primary back', async () => {
    const healthy = await chat();
    assert.equal(healthy.res.headers.get('x-keel-target'), 'primary');

    const inject = await post('/admin/chaos/inject', { target: 'primary', status: 503 });
    assert.equal(inject.status, 200);
    const seen = primary!.received.length;
    const { res, text } = await chat();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-keel-target'), 'backup');
    assert.equal(res.headers.get('x-keel-decision'), 'fallback');
    assert.match(text, /backup answer here/);
    assert.equal(primary!.received.length, seen, 'the injected failure never reached the upstream');
    assert.equal(controller.list()[0]?.applied, 1);

    assert.equal((await post('/admin/chaos/clear', {})).status, 200);
    const back = await chat();
    assert.equal(back.res.headers.get('x-keel-target'), 'primary');
  });

  test('a stream cut mid-answer reaches the client as an error event, never as [DONE]', async () => {
    controller.inject('primary', { cutStreamAfter: 2 });
    try {
      const { res, text } = await chat(true);
      assert.equal(res.status, 200, 'the first chunk was out: no failover after it');
      assert.equal(res.headers.get('x-keel-target'), 'primary');
      assert.match(text, /"code":"KEEL_STREAM_CUT"/);
      assert.doesNotMatch(text, /\[DONE\]/);
    } finally {
      controller.clear();
    }
  });

  test('keel chaos inject / list / clear drive the same API', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(' '));
    const run = async (...args: string[]) => {
      const program = new Command('keel').exitOverride();
      registerChaosCommands(program);
      await program.parseAsync(['node', 'keel', 'chaos', ...args, '--url', adminUrl]);
    };
    try {
      await run(
        'inject',
        'primary',
        '--error-rate',
        '0.5',
        '--status',
        '502',
        '--latency',
        '20ms',
        '--duration',
        '60s',
      );
      assert.match(
        lines.at(-1) ?? '',
        /^chaos on primary: latency \+20ms, error 502 p=0.5 \(until \d\d:\d\d:\d\d\)$/,
      );
      assert.equal(controller.affected('primary'), 'latency +20ms, error 502 p=0.5');
      await run('list');
      assert.match(lines.join('\n'), /primary\s+latency \+20ms, error 502 p=0\.5/);
      await run('clear', 'primary', '--reason', 'done');
      assert.equal(lines.at(-1), 'cleared 1 fault(s) on primary');
      assert.equal(controller.affected('primary'), undefined);
    } finally {
      console.log = log;
    }
  });
});
