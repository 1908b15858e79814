import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { LATEST_VERSION, migrate, migrations, schemaVersion } from '../../src/store/sqlite/migrations.ts';
import { SqliteTraceStore } from '../../src/store/sqlite/store.ts';
import { runTraceStoreContract } from './contract.ts';
import { fullTrace, trace } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-sqlite-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `store-${++n}`, 'keel.db');

runTraceStoreContract('sqlite', async () => new SqliteTraceStore({ path: freshPath() }));

describe('sqlite store specifics', () => {
  test('creates the directory, runs in WAL mode with synchronous=NORMAL', async () => {
    const path = join(dir, 'deep', 'er', 'keel.db');
    const store = new SqliteTraceStore({ path });
    await store.writeBatch([trace()]);
    assert.ok(existsSync(`${path}-wal`), 'a WAL file exists while open');
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    const other = new Database(path, { readonly: true });
    assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(schemaVersion(other), LATEST_VERSION);
    other.close();
    await store.close();
    // The file header records WAL persistently: bytes 18 and 19 (read/write versions) are 2.
    const header = Buffer.alloc(100);
    const fd = openSync(path, 'r');
    readSync(fd, header, 0, 100, 0);
    closeSync(fd);
    assert.equal(header.subarray(0, 15).toString('latin1'), 'SQLite format 3');
    assert.deepEqual([header[18], header[19]], [2, 2]);
  });

  test('migrates a version-1 database to the latest, keeping its traces', async () => {
    assert.ok(LATEST_VERSION >= 2);
    const path = freshPath();
    const store0 = new SqliteTraceStore({ path }); // creates the directory
    await store0.close();
    rmSync(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    assert.deepEqual(migrate(db, migrations.slice(0, 1)), [1]);
    assert.equal(schemaVersion(db), 1);
    // A row as version 1 wrote it: no body_text column yet.
    const old = fullTrace();
    old.request = { messages: [{ role: 'user', content: 'Written Before The Upgrade' }] };
    db.prepare(
      `INSERT INTO traces (id, started_at, ended_at, duration_ms, route, status, outcome, decision, tokens_in,
         tokens_out, tokens_cached, estimated, cost_usd, endpoint, stream, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      old.id,
      old.startedAt,
      old.endedAt,
      old.durationMs,
      old.route,
      old.status,
      old.outcome,
      old.decision,
      old.tokensIn,
      old.tokensOut,
      old.tokensCached,
      1,
      old.costUsd,
      old.endpoint,
      1,
      JSON.stringify(old),
    );
    db.close();

    const store = new SqliteTraceStore({ path });
    assert.deepEqual(await store.get(old.id), old);
    assert.deepEqual(
      (await store.list({ text: 'before the upgrade' })).traces.map((t) => t.id),
      [old.id],
    );
    const fresh = trace({ request: 'after the upgrade' });
    await store.writeBatch([fresh]);
    assert.deepEqual(
      (await store.list({ text: 'the upgrade' })).traces.map((t) => t.id).sort(),
      [old.id, fresh.id].sort(),
    );
    await store.close();

    const check = new Database(path, { readonly: true });
    assert.equal(schemaVersion(check), LATEST_VERSION);
    check.close();
    // Opening again is a no-op.
    const again = new SqliteTraceStore({ path });
    await again.close();
  });

  test('a failing migration rolls back entirely; a newer database is refused', async () => {
    const path = freshPath();
    await new SqliteTraceStore({ path }).close();
    const db = new Database(path);
    const broken = [
      ...migrations,
      {
        version: LATEST_VERSION + 1,
        name: 'ok',
        up: (d: Database.Database) => d.exec('CREATE TABLE extra (x)'),
      },
      {
        version: LATEST_VERSION + 2,
        name: 'broken',
        up: () => {
          throw new Error('boom');
        },
      },
    ];
    assert.throws(() => migrate(db, broken), /boom/);
    assert.equal(schemaVersion(db), LATEST_VERSION);
    const extra = db.prepare<[], { n: number }>(
      "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'extra'",
    );
    assert.equal(extra.get()?.n, 0, 'the first of the two new migrations was rolled back too');
    assert.throws(() => migrate(db, [migrations[1]!, migrations[0]!]), /expected 1/);
    db.pragma(`user_version = ${LATEST_VERSION + 5}`);
    db.close();
    assert.throws(() => new SqliteTraceStore({ path }), /newer than this Keel supports/);
  });

  test('methods reject after close', async () => {
    const store = new SqliteTraceStore({ path: freshPath() });
    await store.close();
    await store.close();
    await assert.rejects(store.get('x'));
    await assert.rejects(store.writeBatch([trace()]));
  });
});
