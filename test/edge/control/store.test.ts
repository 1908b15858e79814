import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { ConfigVersionStore } from '../../../src/config/versions.ts';
import { AuditLog } from '../../../src/edge/audit/audit.ts';
import { MemoryControlStore } from '../../../src/edge/control-store/memory.ts';
import { SqliteControlStore } from '../../../src/edge/control-store/sqlite.ts';
import type { ControlStore, StoredKey } from '../../../src/edge/control-store/types.ts';
import { Keys } from '../../../src/edge/keys/keys.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'keel-control-'));

const key = (over: Partial<StoredKey> = {}): StoredKey => ({
  id: 'key_0000000000000001',
  name: 'app',
  hash: 'a'.repeat(64),
  prefix: 'sk-keel-abcd…',
  routes: ['chat'],
  rpm: 60,
  tpm: null,
  budgetUsd: 5,
  budgetPeriod: 'day',
  expiresAt: null,
  createdAt: 1000,
  revokedAt: null,
  ...over,
});

const stores: Array<[string, () => ControlStore]> = [
  ['memory', () => new MemoryControlStore()],
  ['sqlite', () => new SqliteControlStore({ path: join(dir(), 'control.db') })],
];

for (const [kind, make] of stores) {
  describe(`${kind} control store contract`, () => {
    test('keys: insert, find by hash/id/name, one active key per name, revoke', async () => {
      const store = make();
      assert.equal(await store.insertKey(key()), true);
      assert.deepEqual(await store.findKeyByHash('a'.repeat(64)), key());
      assert.deepEqual(await store.findKey('key_0000000000000001'), key());
      assert.deepEqual(await store.findKey('app'), key());
      assert.equal(await store.findKeyByHash('b'.repeat(64)), undefined);
      // A second active key with the same name is refused.
      assert.equal(await store.insertKey(key({ id: 'key_0000000000000002', hash: 'b'.repeat(64) })), false);
      const revoked = await store.revokeKey('key_0000000000000001', 2000);
      assert.equal(revoked?.revokedAt, 2000);
      // Revoking again keeps the first time.
      assert.equal((await store.revokeKey('key_0000000000000001', 3000))?.revokedAt, 2000);
      // The name is free again; by name, the active key wins.
      assert.equal(
        await store.insertKey(key({ id: 'key_0000000000000002', hash: 'b'.repeat(64), createdAt: 2500 })),
        true,
      );
      assert.equal((await store.findKey('app'))?.id, 'key_0000000000000002');
      assert.deepEqual(
        (await store.listKeys()).map((k) => k.id),
        ['key_0000000000000001', 'key_0000000000000002'],
      );
      await store.close();
    });

    test('kill switches: put replaces, delete returns what was removed', async () => {
      const store = make();
      await store.putKill({ scope: 'route', name: 'chat', reason: 'r1', who: 'ann', at: 1 });
      await store.putKill({ scope: 'route', name: 'chat', reason: 'r2', who: 'bob', at: 2 });
      await store.putKill({ scope: 'tool', name: 'chat', reason: 'r3', who: 'bob', at: 3 });
      assert.deepEqual(await store.listKills(), [
        { scope: 'route', name: 'chat', reason: 'r2', who: 'bob', at: 2 },
        { scope: 'tool', name: 'chat', reason: 'r3', who: 'bob', at: 3 },
      ]);
      assert.deepEqual(await store.deleteKill('route', 'chat'), {
        scope: 'route',
        name: 'chat',
        reason: 'r2',
        who: 'bob',
        at: 2,
      });
      assert.equal(await store.deleteKill('route', 'chat'), undefined);
      assert.equal((await store.listKills()).length, 1);
      await store.close();
    });

    test('audit: ids increase, newest first, since and limit, details round-trip', async () => {
      const store = make();
      const audit = new AuditLog(store, { now: () => 5000 });
      const a = await audit.append({ who: 'ann', action: 'kill', subject: 'route:chat', reason: 'why' });
      const b = await audit.append({
        who: 'bob',
        action: 'unkill',
        subject: 'route:chat',
        details: { n: [1] },
      });
      assert.ok(b.id > a.id);
      assert.deepEqual(a, {
        id: a.id,
        at: 5000,
        who: 'ann',
        action: 'kill',
        subject: 'route:chat',
        reason: 'why',
        details: null,
      });
      const list = await audit.list();
      assert.deepEqual(
        list.map((e) => e.who),
        ['bob', 'ann'],
      );
      assert.deepEqual(list[0]?.details, { n: [1] });
      assert.equal((await audit.list({ limit: 1 })).length, 1);
      assert.equal((await audit.list({ since: 5001 })).length, 0);
      // What a caller does to a returned entry does not change the log.
      (list[0]!.details as { n: number[] }).n.push(2);
      assert.deepEqual((await audit.list())[0]?.details, { n: [1] });
      await store.close();
    });

    test('config versions: ids increase, exactly one live', async () => {
      const store = make();
      const v1 = await store.addConfigVersion({ at: 1, hash: 'h1', yaml: 'a: 1', who: 'x' });
      const v2 = await store.addConfigVersion({ at: 2, hash: 'h2', yaml: 'a: 2', who: 'y' });
      assert.ok(v2.id > v1.id);
      assert.equal(v1.live, false);
      await store.setLiveConfigVersion(v1.id);
      await store.setLiveConfigVersion(v2.id);
      assert.deepEqual(
        (await store.listConfigVersions()).map((v) => [v.id, v.live]),
        [
          [v1.id, false],
          [v2.id, true],
        ],
      );
      assert.equal((await store.latestConfigVersion())?.id, v2.id);
      assert.equal((await store.getConfigVersion(v1.id))?.yaml, 'a: 1');
      await assert.rejects(store.setLiveConfigVersion(999));
      await store.close();
    });
  });
}

describe('sqlite control store', () => {
  test('is its own file with its own schema version; reopening keeps data', async () => {
    const path = join(dir(), 'control.db');
    const store = new SqliteControlStore({ path });
    await store.insertKey(key());
    await store.close();
    const again = new SqliteControlStore({ path });
    assert.equal((await again.findKey('app'))?.id, 'key_0000000000000001');
    await again.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  test('the database itself refuses UPDATE and DELETE on the audit log', async () => {
    const path = join(dir(), 'control.db');
    const store = new SqliteControlStore({ path });
    await new AuditLog(store).append({ who: 'ann', action: 'kill', subject: 'route:chat', reason: 'x' });
    await store.close();
    const db = new Database(path);
    assert.throws(() => db.exec("UPDATE audit SET who = 'mallory'"), /append-only/);
    assert.throws(() => db.exec('DELETE FROM audit'), /append-only/);
    assert.equal((db.prepare('SELECT who FROM audit').get() as { who: string }).who, 'ann');
    db.close();
  });

  test('a stored key is a hash: the secret is nowhere in the database files', async () => {
    const d = dir();
    const store = new SqliteControlStore({ path: join(d, 'control.db') });
    const keys = new Keys(store, new AuditLog(store));
    const secrets: string[] = [];
    for (let i = 0; i < 5; i++)
      secrets.push((await keys.createKey({ name: `k${i}` }, { who: 'test' })).secret);
    await keys.revokeKey('k0', { who: 'test' });
    // Both while open (WAL holds the recent pages) and after close (checkpointed into the main file).
    const scan = () => {
      const bytes = readdirSync(d).map((f) => readFileSync(join(d, f)));
      assert.ok(bytes.some((b) => b.length > 0));
      for (const secret of secrets) {
        const random = secret.slice('sk-keel-'.length);
        for (const b of bytes) {
          assert.equal(b.includes(secret), false, 'the secret is stored');
          assert.equal(b.includes(random), false, 'the random part is stored');
          assert.equal(b.includes(Buffer.from(random, 'base64url')), false, 'the raw key bytes are stored');
        }
      }
    };
    scan();
    await store.close();
    scan();
    assert.equal(secrets.length, 5);
  });
});

test('append-only: no code in the control store or audit modules updates or deletes audit rows', () => {
  const root = new URL('../../../src/', import.meta.url).pathname;
  const files = ['edge/control-store', 'edge/audit', 'edge/keys', 'edge/kill'].flatMap((sub) =>
    readdirSync(join(root, sub))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(root, sub, f)),
  );
  files.push(
    join(root, 'config/reload.ts'),
    join(root, 'config/versions.ts'),
    join(root, 'server/control-admin.ts'),
  );
  const sql =
    /\b(UPDATE|DELETE\s+FROM|REPLACE\s+INTO|INSERT\s+OR\s+REPLACE\s+INTO|DROP\s+TABLE|ALTER\s+TABLE)\s+["`[]?audit\b/i;
  // The memory store keeps entries in `auditEntries`: only push and read.
  const memory =
    /auditEntries\s*(\.\s*(splice|pop|shift|unshift|fill|sort|reverse|copyWithin|length\s*=)|\[[^\]]*\]\s*=[^=])/;
  const offenders: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    text.split('\n').forEach((line, i) => {
      if (sql.test(line) || memory.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.ok(files.length >= 8);
  assert.deepEqual(offenders, []);
  // The check itself works.
  assert.ok(sql.test("db.exec('UPDATE audit SET who = 1')"));
  assert.ok(sql.test('DELETE FROM audit WHERE id = 1'));
  assert.ok(!sql.test('CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit'));
  assert.ok(memory.test('this.auditEntries.splice(0, 1)'));
  assert.ok(memory.test('this.auditEntries[0] = x'));
});

test('a ControlStore is a ConfigVersionStore (the config layer mirrors the shape)', () => {
  // Compile-time: these assignments fail `tsc` when the two interfaces drift apart.
  const memory: ConfigVersionStore = new MemoryControlStore();
  const asControl: Pick<ControlStore, keyof ConfigVersionStore> = memory;
  assert.ok(asControl);
});
