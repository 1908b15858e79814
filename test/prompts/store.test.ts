import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrateControl } from '../../src/edge/control-store/migrations.ts';
import { MemoryPromptStore } from '../../src/prompts/memory-store.ts';
import { parsePromptFile } from '../../src/prompts/schema.ts';
import { SqlitePromptStore } from '../../src/prompts/sqlite-store.ts';
import { minimal } from './fixtures.ts';
import { runPromptStoreContract } from './store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-prompts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runPromptStoreContract('memory', () => new MemoryPromptStore());
runPromptStoreContract('sqlite', () => new SqlitePromptStore({ path: join(dir, `s${++n}`, 'prompts.db') }));

describe('sqlite prompt store specifics', () => {
  test('versions and labels survive a reopen; WAL mode', async () => {
    const path = join(dir, 'reopen', 'prompts.db');
    const store = new SqlitePromptStore({ path });
    const { version } = await store.push(parsePromptFile(minimal('greet', 'hello')), { who: 'ann', at: 1 });
    await store.setLabel('greet', 'production', version.version, { who: 'ann', at: 2 });
    await store.close();
    assert.ok(existsSync(path));
    const again = new SqlitePromptStore({ path });
    assert.deepEqual(await again.labels('greet'), { production: version.version });
    assert.deepEqual(await again.getVersion('greet', version.version), version);
    const db = (again as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    await again.close();
  });

  test('an open Database is used and left open', async () => {
    const db = new Database(':memory:');
    const store = new SqlitePromptStore({ database: db });
    await store.push(parsePromptFile(minimal('greet', 'hello')), { who: 'ann', at: 1 });
    await store.close();
    assert.equal(db.open, true);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM prompt_versions').get() as { n: number }).n, 1);
    db.close();
  });

  test("refuses another store's database instead of sharing its schema version", () => {
    const db = new Database(':memory:');
    migrateControl(db);
    assert.throws(() => new SqlitePromptStore({ database: db }), /belongs to another Keel store/);
    db.close();
  });
});
