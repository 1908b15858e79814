import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { migratePrompts } from '../../src/prompts/migrations.ts';
import { MemoryReviewStore } from '../../src/review/memory-store.ts';
import { SqliteReviewStore } from '../../src/review/sqlite-store.ts';
import { escalated, runReviewStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'keel-review-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runReviewStoreContract('memory', () => new MemoryReviewStore());
runReviewStoreContract('sqlite', () => new SqliteReviewStore({ path: join(dir, `s${++n}`, 'review.db') }));

describe('sqlite review store specifics', () => {
  test('items survive a reopen', async () => {
    const path = join(dir, 'reopen', 'review.db');
    const store = new SqliteReviewStore({ path });
    const item = await store.enqueue(escalated('q'), 1);
    await store.resolve(item.id, { answer: 'a' }, { who: 'ann', at: 2 });
    await store.close();
    const again = new SqliteReviewStore({ path });
    assert.equal((await again.get(item.id))?.answer, 'a');
    await again.close();
  });

  test("refuses another store's database", () => {
    const db = new Database(':memory:');
    migratePrompts(db);
    assert.throws(() => new SqliteReviewStore({ database: db }), /belongs to another Keel store/);
    db.close();
  });
});
