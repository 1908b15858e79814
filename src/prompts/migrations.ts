/**
 * Schema of the SQLite prompt store. Its own database file (default `.keel/prompts.db`): the schema
 * version lives in PRAGMA user_version, which one file cannot share between two migration lists.
 * Append-only: a released migration is never edited.
 */
import type Database from 'better-sqlite3';
import { type Migration, migrateSqlite } from '../store/sqlite/migrate.ts';

export const promptMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'prompt versions, labels, label history',
    up(db) {
      db.exec(`
        CREATE TABLE prompt_versions (
          name TEXT NOT NULL,
          version TEXT NOT NULL,
          seq INTEGER NOT NULL,
          body TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          good_at INTEGER,
          PRIMARY KEY (name, version)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX prompt_versions_seq ON prompt_versions (name, seq);

        CREATE TABLE prompt_labels (
          name TEXT NOT NULL,
          label TEXT NOT NULL,
          version TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (name, label)
        ) WITHOUT ROWID;

        CREATE TABLE prompt_label_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL,
          label TEXT NOT NULL,
          action TEXT NOT NULL,
          version TEXT NOT NULL,
          previous TEXT,
          who TEXT NOT NULL,
          reason TEXT,
          at INTEGER NOT NULL
        );
        CREATE INDEX prompt_label_events_label ON prompt_label_events (name, label, id);
      `);
    },
  },
];

/** Bring `db` up to date; refuses a newer schema, and a database that belongs to another store. */
export function migratePrompts(db: Database.Database): number[] {
  const applied = migrateSqlite(db, promptMigrations, 'prompt');
  const ours = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prompt_versions'")
    .get();
  if (!ours) {
    throw new Error('this SQLite database belongs to another Keel store; give the prompt store its own file');
  }
  return applied;
}
