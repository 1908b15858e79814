import type Database from 'better-sqlite3';

/** One schema step; versions run 1, 2, 3… and a released step is never edited. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring `db` up to the last migration of `list` (the version lives in PRAGMA user_version). Refuses a
 * database written by a newer Keel. Returns the versions applied. Every SQLite store of Keel uses this.
 */
export function migrateSqlite(db: Database.Database, list: readonly Migration[], what: string): number[] {
  list.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening the same file cannot both migrate.
  return db
    .transaction(() => {
      const current = schemaVersion(db);
      if (current > list.length) {
        throw new Error(
          `${what} database schema version ${current} is newer than this Keel supports (${list.length}); upgrade Keel`,
        );
      }
      const pending = list.slice(current);
      for (const m of pending) {
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
      }
      return pending.map((m) => m.version);
    })
    .immediate();
}
