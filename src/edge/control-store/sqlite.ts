import type Database from 'better-sqlite3';
import { openSqlite } from '../../store/sqlite/open.ts';
import { migrateControl } from './migrations.ts';
import {
  type AuditEntry,
  type AuditQuery,
  auditLimit,
  type BudgetPeriod,
  type ControlStore,
  type KillScope,
  type KillSwitch,
  type NewAuditEntry,
  type NewStoredConfigVersion,
  type StoredConfigVersion,
  type StoredKey,
} from './types.ts';

export const DEFAULT_CONTROL_DB_PATH = '.keel/control.db';

interface KeyRow {
  id: string;
  name: string;
  hash: string;
  prefix: string;
  routes: string | null;
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_period: string | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

interface AuditRow {
  id: number;
  at: number;
  who: string;
  action: string;
  subject: string;
  reason: string | null;
  details: string | null;
}

interface VersionRow {
  id: number;
  at: number;
  hash: string;
  yaml: string;
  who: string;
  live: number;
}

type Param = string | number | null;

const KEY_COLUMNS =
  'id, name, hash, prefix, routes, rpm, tpm, budget_usd, budget_period, expires_at, created_at, revoked_at';

function toKey(row: KeyRow): StoredKey {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    prefix: row.prefix,
    routes: row.routes === null ? null : (JSON.parse(row.routes) as string[]),
    rpm: row.rpm,
    tpm: row.tpm,
    budgetUsd: row.budget_usd,
    budgetPeriod: row.budget_period as BudgetPeriod | null,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

const toAudit = (row: AuditRow): AuditEntry => ({
  ...row,
  details: row.details === null ? null : (JSON.parse(row.details) as unknown),
});

const toVersion = (row: VersionRow): StoredConfigVersion => ({ ...row, live: row.live === 1 });

export interface SqliteControlStoreOptions {
  /** File path (its directory is created); ':memory:' for a private in-memory database. */
  path?: string;
}

export class SqliteControlStore implements ControlStore {
  readonly kind = 'sqlite';
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmt: {
    insertKey: Database.Statement<Param[]>;
    keyByHash: Database.Statement<[string], KeyRow>;
    keyById: Database.Statement<[string], KeyRow>;
    keyByName: Database.Statement<[string], KeyRow>;
    keys: Database.Statement<[], KeyRow>;
    revokeKey: Database.Statement<[number, string]>;
    putKill: Database.Statement<Param[]>;
    deleteKill: Database.Statement<[string, string], KillSwitch>;
    kills: Database.Statement<[], KillSwitch>;
    appendAudit: Database.Statement<Param[], AuditRow>;
    auditAll: Database.Statement<[number], AuditRow>;
    auditSince: Database.Statement<[number, number], AuditRow>;
    addVersion: Database.Statement<Param[], VersionRow>;
    versions: Database.Statement<[], VersionRow>;
    version: Database.Statement<[number], VersionRow>;
    latestVersion: Database.Statement<[], VersionRow>;
  };
  private readonly setLive: (id: number) => void;

  constructor(options: SqliteControlStoreOptions = {}) {
    const path = options.path ?? DEFAULT_CONTROL_DB_PATH;
    this.path = path;
    const { db } = openSqlite({ path }, DEFAULT_CONTROL_DB_PATH, migrateControl);
    this.db = db;
    this.stmt = {
      insertKey: db.prepare<Param[]>(
        `INSERT INTO keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      keyByHash: db.prepare(`SELECT ${KEY_COLUMNS} FROM keys WHERE hash = ?`),
      keyById: db.prepare(`SELECT ${KEY_COLUMNS} FROM keys WHERE id = ?`),
      keyByName: db.prepare(
        `SELECT ${KEY_COLUMNS} FROM keys WHERE name = ?
         ORDER BY revoked_at IS NULL DESC, created_at DESC, rowid DESC LIMIT 1`,
      ),
      keys: db.prepare(`SELECT ${KEY_COLUMNS} FROM keys ORDER BY created_at, rowid`),
      revokeKey: db.prepare('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      putKill: db.prepare<Param[]>(
        'INSERT OR REPLACE INTO kill_switches (scope, name, reason, who, at) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteKill: db.prepare(
        'DELETE FROM kill_switches WHERE scope = ? AND name = ? RETURNING scope, name, reason, who, at',
      ),
      kills: db.prepare('SELECT scope, name, reason, who, at FROM kill_switches ORDER BY at, scope, name'),
      appendAudit: db.prepare<Param[], AuditRow>(
        'INSERT INTO audit (at, who, action, subject, reason, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      ),
      auditAll: db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?'),
      auditSince: db.prepare('SELECT * FROM audit WHERE at >= ? ORDER BY id DESC LIMIT ?'),
      addVersion: db.prepare<Param[], VersionRow>(
        'INSERT INTO config_versions (at, hash, yaml, who, live) VALUES (?, ?, ?, ?, 0) RETURNING *',
      ),
      versions: db.prepare('SELECT * FROM config_versions ORDER BY id'),
      version: db.prepare('SELECT * FROM config_versions WHERE id = ?'),
      latestVersion: db.prepare('SELECT * FROM config_versions ORDER BY id DESC LIMIT 1'),
    };
    const clearLive = db.prepare('UPDATE config_versions SET live = 0 WHERE live = 1');
    const markLive = db.prepare<[number]>('UPDATE config_versions SET live = 1 WHERE id = ?');
    this.setLive = db.transaction((id: number) => {
      clearLive.run();
      if (markLive.run(id).changes !== 1) throw new Error(`no config version ${id}`);
    });
  }

  async insertKey(key: StoredKey): Promise<boolean> {
    try {
      this.stmt.insertKey.run(
        key.id,
        key.name,
        key.hash,
        key.prefix,
        key.routes === null ? null : JSON.stringify(key.routes),
        key.rpm,
        key.tpm,
        key.budgetUsd,
        key.budgetPeriod,
        key.expiresAt,
        key.createdAt,
        key.revokedAt,
      );
      return true;
    } catch (err) {
      // The partial unique index on active names: another key (maybe from another replica) won.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /keys\.name/.test(String(err))) {
        return false;
      }
      throw err;
    }
  }

  async findKeyByHash(hash: string): Promise<StoredKey | undefined> {
    const row = this.stmt.keyByHash.get(hash);
    return row ? toKey(row) : undefined;
  }

  async findKey(idOrName: string): Promise<StoredKey | undefined> {
    const row = this.stmt.keyById.get(idOrName) ?? this.stmt.keyByName.get(idOrName);
    return row ? toKey(row) : undefined;
  }

  async listKeys(): Promise<StoredKey[]> {
    return this.stmt.keys.all().map(toKey);
  }

  async revokeKey(id: string, at: number): Promise<StoredKey | undefined> {
    this.stmt.revokeKey.run(at, id);
    const row = this.stmt.keyById.get(id);
    return row ? toKey(row) : undefined;
  }

  async putKill(kill: KillSwitch): Promise<void> {
    this.stmt.putKill.run(kill.scope, kill.name, kill.reason, kill.who, kill.at);
  }

  async deleteKill(scope: KillScope, name: string): Promise<KillSwitch | undefined> {
    return this.stmt.deleteKill.get(scope, name);
  }

  async listKills(): Promise<KillSwitch[]> {
    return this.stmt.kills.all();
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = this.stmt.appendAudit.get(
      entry.at,
      entry.who,
      entry.action,
      entry.subject,
      entry.reason,
      entry.details === null || entry.details === undefined ? null : JSON.stringify(entry.details),
    );
    if (!row) throw new Error('audit insert returned no row');
    return toAudit(row);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = auditLimit(query.limit);
    const rows =
      query.since === undefined
        ? this.stmt.auditAll.all(limit)
        : this.stmt.auditSince.all(query.since, limit);
    return rows.map(toAudit);
  }

  async addConfigVersion(version: NewStoredConfigVersion): Promise<StoredConfigVersion> {
    const row = this.stmt.addVersion.get(version.at, version.hash, version.yaml, version.who);
    if (!row) throw new Error('config version insert returned no row');
    return toVersion(row);
  }

  async listConfigVersions(): Promise<StoredConfigVersion[]> {
    return this.stmt.versions.all().map(toVersion);
  }

  async getConfigVersion(id: number): Promise<StoredConfigVersion | undefined> {
    const row = this.stmt.version.get(id);
    return row ? toVersion(row) : undefined;
  }

  async latestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    const row = this.stmt.latestVersion.get();
    return row ? toVersion(row) : undefined;
  }

  async setLiveConfigVersion(id: number): Promise<void> {
    this.setLive(id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
