/**
 * Schema of the SQLite review store: its own file (default `.keel/review.db`), because the schema
 * version lives in PRAGMA user_version. Append-only: a released migration is never edited.
 */
import type Database from 'better-sqlite3';
import { type Migration, migrateSqlite } from '../store/sqlite/migrate.ts';

export const reviewMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'review items',
    up(db) {
      db.exec(`
        CREATE TABLE review_items (
          id TEXT PRIMARY KEY,
          created_at INTEGER NOT NULL,
          status TEXT NOT NULL,
          reason TEXT NOT NULL,
          feature TEXT,
          route TEXT,
          trace_id TEXT,
          prompt_version TEXT,
          input TEXT NOT NULL,
          output TEXT,
          contexts TEXT,
          validation TEXT,
          tags TEXT,
          answer TEXT,
          resolved_by TEXT,
          resolved_at INTEGER,
          note TEXT
        );
        CREATE INDEX review_items_created ON review_items (created_at);
        CREATE INDEX review_items_status ON review_items (status, created_at);
      `);
    },
  },
];

/** Bring `db` up to date; refuses a newer schema, and a database that belongs to another store. */
export function migrateReview(db: Database.Database): number[] {
  const applied = migrateSqlite(db, reviewMigrations, 'review');
  const ours = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_items'").get();
  if (!ours) {
    throw new Error('this SQLite database belongs to another Keel store; give the review store its own file');
  }
  return applied;
}
