/**
 * Schema of the SQLite control store (its own file, default `.keel/control.db`, separate from the
 * trace database). Same scheme as the trace store: the version lives in `PRAGMA user_version`, every
 * migration above it runs in order inside one IMMEDIATE transaction, and migrations are append-only.
 *
 * The audit table is append-only at the database level too: triggers abort any UPDATE or DELETE.
 */
import type Database from 'better-sqlite3';
import { type Migration, migrateSqlite, schemaVersion } from '../../store/sqlite/migrate.ts';

export type ControlMigration = Migration;

export const controlMigrations: readonly ControlMigration[] = [
  {
    version: 1,
    name: 'keys, kill switches, audit log, config versions',
    up(db) {
      db.exec(`
        CREATE TABLE keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          hash TEXT NOT NULL UNIQUE,
          prefix TEXT NOT NULL,
          routes TEXT,
          rpm INTEGER,
          tpm INTEGER,
          budget_usd REAL,
          budget_period TEXT,
          expires_at INTEGER,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        );
        CREATE UNIQUE INDEX keys_active_name ON keys (name) WHERE revoked_at IS NULL;
        CREATE INDEX keys_name ON keys (name, created_at);

        CREATE TABLE kill_switches (
          scope TEXT NOT NULL,
          name TEXT NOT NULL,
          reason TEXT NOT NULL,
          who TEXT NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (scope, name)
        ) WITHOUT ROWID;

        CREATE TABLE audit (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at INTEGER NOT NULL,
          who TEXT NOT NULL,
          action TEXT NOT NULL,
          subject TEXT NOT NULL,
          reason TEXT,
          details TEXT
        );
        CREATE INDEX audit_at ON audit (at, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        CREATE TABLE config_versions (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at INTEGER NOT NULL,
          hash TEXT NOT NULL,
          yaml TEXT NOT NULL,
          who TEXT NOT NULL,
          live INTEGER NOT NULL DEFAULT 0
        );
      `);
    },
  },
];

export const controlSchemaVersion = schemaVersion;

/** Bring `db` up to the last control migration; refuses a file written by a newer Keel. */
export function migrateControl(
  db: Database.Database,
  list: readonly ControlMigration[] = controlMigrations,
): number[] {
  return migrateSqlite(db, list, 'control');
}
