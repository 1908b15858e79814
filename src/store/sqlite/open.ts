/**
 * Opening a store's SQLite database, once for every store (traces, control, prompts, review): the
 * directory is created, WAL with synchronous=NORMAL and a busy timeout are set, and the store's
 * migrations run. A database the caller passes in is used as it is and not closed by the store.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface OpenOptions {
  /** File path; ':memory:' for a private in-memory database. */
  path?: string | undefined;
  /** An open database to use instead (the caller keeps ownership). */
  database?: Database.Database | undefined;
}

export function openSqlite(
  options: OpenOptions,
  defaultPath: string,
  migrate: (db: Database.Database) => unknown,
): { db: Database.Database; owned: boolean } {
  const owned = options.database === undefined;
  let db: Database.Database;
  if (options.database) db = options.database;
  else {
    const path = options.path ?? defaultPath;
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    if (owned) db.close();
    throw err;
  }
  return { db, owned };
}
