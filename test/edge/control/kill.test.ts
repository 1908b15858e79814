import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeelError } from '../../../src/core/errors.ts';
import { AuditLog } from '../../../src/edge/audit/audit.ts';
import { MemoryControlStore } from '../../../src/edge/control-store/memory.ts';
import type { KillSwitch } from '../../../src/edge/control-store/types.ts';
import { KillSwitches } from '../../../src/edge/kill/switches.ts';

function setup() {
  let now = 1_000;
  const clock = { now: () => now };
  const store = new MemoryControlStore();
  const audit = new AuditLog(store, clock);
  const kill = new KillSwitches(store, audit, { clock, refreshMs: 0 });
  return { store, audit, kill, clock, tick: () => now++ };
}

describe('kill switches', () => {
  test('a kill is seen by the very next check, and an unkill too', async () => {
    const { kill } = setup();
    await kill.start();
    assert.equal(kill.isKilled('route', 'chat'), false);
    await kill.kill('route', 'chat', { reason: 'runaway cost', who: 'ann' });
    assert.equal(kill.isKilled('route', 'chat'), true);
    assert.equal(kill.isKilled('target', 'chat'), false, 'scopes are separate');
    assert.throws(
      () => kill.check({ route: 'chat' }),
      (e: unknown) =>
        e instanceof KeelError && e.status === 503 && /route "chat" is turned off/.test(e.message),
    );
    await kill.unkill('route', 'chat', { who: 'ann' });
    assert.equal(kill.isKilled('route', 'chat'), false);
    kill.check({ route: 'chat' });
  });

  test('check covers feature and tools; the operator reason is not sent to clients', async () => {
    const { kill } = setup();
    await kill.kill('feature', 'summaries', { reason: 'internal incident #42', who: 'ann' });
    await kill.kill('tool', 'shell', { reason: 'internal incident #43', who: 'ann' });
    kill.check({ route: 'chat', feature: 'search', tools: ['search'] });
    const error = (req: Parameters<KillSwitches['check']>[0]) => {
      try {
        kill.check(req);
      } catch (e) {
        assert.ok(e instanceof KeelError);
        return e;
      }
      assert.fail('not refused');
    };
    assert.match(error({ route: 'chat', feature: 'summaries' }).message, /feature "summaries"/);
    const tool = error({ route: 'chat', tools: ['search', 'shell'] });
    assert.match(tool.message, /tool "shell"/);
    assert.ok(!tool.message.includes('incident'));
    assert.equal(tool.retryable, false);
    assert.equal(tool.countsForBreaker, false);
  });

  test('flips are audited with who, when, what and why', async () => {
    const { kill, audit, tick } = setup();
    await kill.kill('target', 'gpt-4o', { reason: 'provider incident', who: 'ann' });
    tick();
    await kill.kill('target', 'gpt-4o', { reason: 'still down', who: 'bob' });
    tick();
    await kill.unkill('target', 'gpt-4o', { who: 'carol', reason: 'recovered' });
    assert.equal(await kill.unkill('target', 'gpt-4o', { who: 'carol' }), undefined);
    const entries = (await audit.list()).reverse();
    assert.deepEqual(
      entries.map((e) => [e.at, e.who, e.action, e.subject, e.reason]),
      [
        [1000, 'ann', 'kill', 'target:gpt-4o', 'provider incident'],
        [1001, 'bob', 'kill', 'target:gpt-4o', 'still down'],
        [1002, 'carol', 'unkill', 'target:gpt-4o', 'recovered'],
      ],
    );
    assert.deepEqual(entries[1]?.details, {
      scope: 'target',
      name: 'gpt-4o',
      replaced: { reason: 'provider incident', who: 'ann' },
    });
  });

  test("another replica's flip arrives with the refresh", async () => {
    const { store, audit, kill } = setup();
    const replica = new KillSwitches(store, audit, { refreshMs: 20 });
    await replica.start();
    await kill.kill('route', 'chat', { reason: 'x', who: 'ann' });
    assert.equal(replica.isKilled('route', 'chat'), false);
    const deadline = Date.now() + 2000;
    while (!replica.isKilled('route', 'chat') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(replica.isKilled('route', 'chat'), true);
    replica.stop();
  });

  test('a refresh that read the store before a local flip does not undo it', async () => {
    const { audit } = setup();
    let release: (value: KillSwitch[]) => void = () => {};
    const store = new MemoryControlStore();
    const slow = {
      putKill: store.putKill.bind(store),
      deleteKill: store.deleteKill.bind(store),
      listKills: () => new Promise<KillSwitch[]>((resolve) => (release = resolve)),
    };
    const kill = new KillSwitches(slow, audit, { refreshMs: 0 });
    const pending = kill.refresh(); // reads "nothing is killed"...
    await kill.kill('route', 'chat', { reason: 'x', who: 'ann' }); // ...then a flip lands
    release([]);
    await pending;
    assert.equal(kill.isKilled('route', 'chat'), true);
  });
});
