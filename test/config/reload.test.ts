import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PathProblem } from '../../src/config/interpolate.ts';
import { ConfigError } from '../../src/config/load.ts';
import { ConfigReloader } from '../../src/config/reload.ts';
import type { KeelConfig } from '../../src/config/schema.ts';
import { configHash } from '../../src/config/versions.ts';
import { AuditLog } from '../../src/edge/audit/audit.ts';
import { MemoryControlStore } from '../../src/edge/control-store/memory.ts';
import { SqliteControlStore } from '../../src/edge/control-store/sqlite.ts';

const yaml = (routes: string) => `
providers:
  sim: { type: simulated }
models:
  local: { provider: sim, model: local }
  backup: { provider: sim, model: backup }
routes:
${routes}
`;

const V1 = yaml('  chat: { targets: [{ model: local }] }');
const V2 = yaml('  chat: { targets: [{ model: local }, { model: backup }] }');
const V3 = yaml('  chat: { targets: [{ model: backup }] }\n  extra: { targets: [{ model: local }] }');
const BAD = yaml('  chat: { targets: [{ model: lokal }] }');

function setup(options: { watch?: boolean; store?: MemoryControlStore | SqliteControlStore } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-reload-'));
  const path = join(dir, 'keel.yaml');
  writeFileSync(path, V1);
  const store = options.store ?? new MemoryControlStore();
  const audit = new AuditLog(store);
  const applied: KeelConfig[] = [];
  const rejected: PathProblem[][] = [];
  let running: KeelConfig | undefined;
  const reloader = new ConfigReloader({
    path,
    store,
    audit,
    env: {},
    debounceMs: 30,
    watch: options.watch ?? false,
    onApply: (config) => {
      applied.push(config);
      running = config;
    },
    onReject: (problems) => rejected.push(problems),
  });
  const routeTargets = (c: KeelConfig | undefined) =>
    c
      ? Object.entries(c.routes).map(([name, r]) => `${name}:${r.targets.map((t) => t.model).join('>')}`)
      : [];
  return {
    dir,
    path,
    store,
    audit,
    reloader,
    applied,
    rejected,
    running: () => running,
    routeTargets,
  };
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('config reload', () => {
  test('start records the file as the live version and returns the config without onApply', async () => {
    const t = setup();
    const config = await t.reloader.start();
    assert.deepEqual(t.routeTargets(config), ['chat:local']);
    assert.equal(t.applied.length, 0);
    const versions = await t.reloader.versions();
    assert.equal(versions.length, 1);
    assert.equal(versions[0]?.live, true);
    assert.equal(versions[0]?.hash, configHash(V1));
    assert.equal(versions[0]?.who, 'system:startup');
    t.reloader.stop();
  });

  test('start throws the ConfigError for an invalid file and records nothing', async () => {
    const t = setup();
    writeFileSync(t.path, BAD);
    await assert.rejects(t.reloader.start(), (e: unknown) => e instanceof ConfigError);
    assert.equal((await t.reloader.versions()).length, 0);
  });

  test('a valid change applies and creates a version; the same text again does not', async () => {
    const t = setup();
    await t.reloader.start();
    writeFileSync(t.path, V2);
    const result = await t.reloader.reload({ who: 'system:sighup' });
    assert.equal(result.status, 'applied');
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    assert.equal((await t.reloader.reload()).status, 'unchanged');
    assert.equal(t.applied.length, 1);
    const versions = await t.reloader.versions();
    assert.deepEqual(
      versions.map((v) => [v.id, v.live, v.who]),
      [
        [2, true, 'system:sighup'],
        [1, false, 'system:startup'],
      ],
    );
    const entries = await t.audit.list();
    assert.equal(entries[0]?.action, 'config.apply');
    assert.equal(entries[0]?.who, 'system:sighup');
    assert.deepEqual(entries[0]?.details, {
      version: 2,
      hash: configHash(V2),
      source: 'file',
      newVersion: true,
      previous: 1,
    });
  });

  test('an invalid file is rejected with the precise problems; the old config keeps serving', async () => {
    const t = setup();
    await t.reloader.start();
    writeFileSync(t.path, V2);
    await t.reloader.reload();
    writeFileSync(t.path, BAD);
    const result = await t.reloader.reload({ who: 'system:sighup' });
    assert.equal(result.status, 'rejected');
    const expected = [
      { path: 'routes.chat.targets[0].model', problem: 'unknown model "lokal" (did you mean "local"?)' },
    ];
    assert.deepEqual(result.status === 'rejected' ? result.problems : undefined, expected);
    assert.deepEqual(t.rejected, [expected]);
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    assert.deepEqual(t.routeTargets(t.reloader.current()), ['chat:local>backup']);
    assert.equal((await t.reloader.versions()).length, 2, 'a rejected config is not a version');
    const [entry] = await t.audit.list({ limit: 1 });
    assert.equal(entry?.action, 'config.rejected');
    assert.deepEqual((entry?.details as { problems: PathProblem[] } | undefined)?.problems, expected);
  });

  test('a missing file is rejected, not applied', async () => {
    const t = setup();
    await t.reloader.start();
    const reloader = new ConfigReloader({
      path: join(t.dir, 'gone.yaml'),
      store: new MemoryControlStore(),
      onApply: () => assert.fail('applied'),
      watch: false,
    });
    await assert.rejects(reloader.start(), /file not found/);
  });

  test('onApply throwing rejects the config (no version, old config kept)', async () => {
    const t = setup();
    let fail = true;
    const reloader = new ConfigReloader({
      path: t.path,
      store: t.store,
      audit: t.audit,
      env: {},
      watch: false,
      onApply: () => {
        if (fail) throw new Error('router build failed');
      },
    });
    const first = await reloader.start();
    writeFileSync(t.path, V2);
    const result = await reloader.reload();
    assert.deepEqual(result.status === 'rejected' ? result.problems : [], [
      { path: '(apply)', problem: 'router build failed' },
    ]);
    assert.equal(reloader.current(), first);
    assert.equal((await reloader.versions()).length, 1);
    fail = false;
    assert.equal((await reloader.reload()).status, 'applied');
  });

  test('rollback re-applies the previous version in memory; the file is not touched', async () => {
    const t = setup();
    await t.reloader.start();
    writeFileSync(t.path, V2);
    await t.reloader.reload();
    writeFileSync(t.path, V3);
    await t.reloader.reload();
    assert.deepEqual(t.routeTargets(t.running()), ['chat:backup', 'extra:local']);

    const back = await t.reloader.rollback(undefined, { who: 'ann', reason: 'extra route broke things' });
    assert.equal(back.status, 'applied');
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    assert.equal(readFileSync(t.path, 'utf8'), V3, 'the file was rewritten');
    let versions = await t.reloader.versions();
    assert.deepEqual(
      versions.map((v) => [v.id, v.live]),
      [
        [3, false],
        [2, true],
        [1, false],
      ],
    );
    // Again: one further back. Then to a named version.
    await t.reloader.rollback(undefined, { who: 'ann' });
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local']);
    await assert.rejects(t.reloader.rollback(undefined, { who: 'ann' }), /no earlier config version/);
    await t.reloader.rollback(3, { who: 'bob' });
    assert.deepEqual(t.routeTargets(t.running()), ['chat:backup', 'extra:local']);
    assert.equal((await t.reloader.rollback(3, { who: 'bob' })).status, 'unchanged');
    await assert.rejects(t.reloader.rollback(99, { who: 'bob' }), /no config version 99/);
    versions = await t.reloader.versions();
    assert.equal(versions.length, 3, 'rollback makes no new version');

    const rollbacks = (await t.audit.list()).filter((e) => e.action === 'config.rollback').reverse();
    assert.deepEqual(
      rollbacks.map((e) => [e.who, e.reason, (e.details as { version: number; previous: number }).version]),
      [
        ['ann', 'extra route broke things', 2],
        ['ann', null, 1],
        ['bob', null, 3],
      ],
    );
  });

  test('after a rollback, SIGHUP re-applies the file; an edit does too', async () => {
    const t = setup();
    await t.reloader.start();
    writeFileSync(t.path, V2);
    await t.reloader.reload();
    await t.reloader.rollback(undefined, { who: 'ann' });
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local']);
    const result = await t.reloader.reload({ who: 'system:sighup' });
    assert.equal(result.status, 'applied');
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    // Same text as version 2: no new version, version 2 is live again.
    assert.deepEqual(
      (await t.reloader.versions()).map((v) => [v.id, v.live]),
      [
        [2, true],
        [1, false],
      ],
    );
  });

  test('rollback to a version that no longer validates is rejected and throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-reload-'));
    const path = join(dir, 'keel.yaml');
    const withEnv = `
providers:
  sim: { type: simulated }
models:
  local: { provider: sim, model: "\${MODEL_NAME}" }
routes:
  chat: { targets: [{ model: local }] }
`;
    writeFileSync(path, withEnv);
    const env: Record<string, string | undefined> = { MODEL_NAME: 'm' };
    const rejected: PathProblem[][] = [];
    const reloader = new ConfigReloader({
      path,
      store: new MemoryControlStore(),
      env,
      watch: false,
      onApply: () => {},
      onReject: (p) => rejected.push(p),
    });
    await reloader.start();
    writeFileSync(path, V1);
    await reloader.reload();
    delete env.MODEL_NAME;
    await assert.rejects(reloader.rollback(1, { who: 'ann' }), (e: unknown) => e instanceof ConfigError);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]?.[0]?.problem ?? '', /MODEL_NAME/);
    assert.deepEqual(
      (await reloader.versions()).map((v) => [v.id, v.live]),
      [
        [2, true],
        [1, false],
      ],
    );
  });

  test('the file watcher applies an edit, and ignores a rewrite with the same text', async () => {
    const t = setup({ watch: true });
    await t.reloader.start();
    writeFileSync(t.path, V2);
    await until(() => t.applied.length === 1);
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    // An invalid edit is reported and does not apply.
    writeFileSync(t.path, BAD);
    await until(() => t.rejected.length === 1);
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    writeFileSync(t.path, V3);
    await until(() => t.applied.length === 2);
    // After a rollback, rewriting the file with the same text does not undo it.
    await t.reloader.rollback(undefined, { who: 'ann' });
    writeFileSync(t.path, V3);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(t.applied.length, 3);
    assert.deepEqual(t.routeTargets(t.running()), ['chat:local>backup']);
    const watched = (await t.audit.list()).filter((e) => e.who === 'system:file-watch');
    assert.deepEqual(
      watched.map((e) => e.action),
      ['config.apply', 'config.rejected', 'config.apply'],
    );
    t.reloader.stop();
  });

  test('versions survive a restart with the SQLite control store', async () => {
    const dbDir = mkdtempSync(join(tmpdir(), 'keel-reload-db-'));
    const store = new SqliteControlStore({ path: join(dbDir, 'control.db') });
    const t = setup({ store });
    await t.reloader.start();
    writeFileSync(t.path, V2);
    await t.reloader.reload();
    await store.close();

    const reopened = new SqliteControlStore({ path: join(dbDir, 'control.db') });
    const again = new ConfigReloader({
      path: t.path,
      store: reopened,
      env: {},
      watch: false,
      onApply: () => {},
    });
    await again.start(); // same text as the latest version: no new one
    assert.deepEqual(
      (await again.versions()).map((v) => [v.id, v.live]),
      [
        [2, true],
        [1, false],
      ],
    );
    await again.rollback(undefined, { who: 'ann' });
    assert.equal((await again.versions()).find((v) => v.live)?.id, 1);
    await reopened.close();
  });
});
