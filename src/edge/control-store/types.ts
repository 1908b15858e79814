/**
 * The control store: virtual keys, kill switches, the audit log and config versions. Every method is
 * async so a networked store (Postgres) can implement the same interface; the SQLite and memory
 * stores answer at once.
 *
 * Invariants every implementation keeps:
 * - a key is stored as the SHA-256 of its secret, never the secret;
 * - at most one non-revoked key has a given name;
 * - the audit log is append-only: entries are inserted and read, never updated or deleted.
 *
 * The config-version part mirrors `ConfigVersionStore` of src/config/versions.ts structurally (edge
 * may not import config, nor config edge), so a ControlStore can be handed to the ConfigReloader; a
 * test checks the two stay assignable.
 */

export type KillScope = 'route' | 'target' | 'tool' | 'feature';
export const KILL_SCOPES: readonly KillScope[] = ['route', 'target', 'tool', 'feature'];

export type BudgetPeriod = 'day' | 'month';

export interface StoredKey {
  /** `key_` + 16 hex characters. */
  id: string;
  name: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  /** For display only: `sk-keel-` and the next 4 characters, e.g. `sk-keel-ab12…`. */
  prefix: string;
  /** Routes the key may use; null = all. */
  routes: string[] | null;
  rpm: number | null;
  tpm: number | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
  /** ms since the epoch; null = never. */
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface KillSwitch {
  scope: KillScope;
  name: string;
  reason: string;
  who: string;
  /** When it was flipped on (ms since the epoch). */
  at: number;
}

export interface AuditEntry {
  /** Increasing. */
  id: number;
  at: number;
  who: string;
  /** e.g. key.create, key.revoke, kill, unkill, config.apply, config.rollback, config.rejected. */
  action: string;
  /** What it acted on: a key id, `route:chat`, a config path. */
  subject: string;
  reason: string | null;
  /** Anything JSON; null when none. */
  details: unknown;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  /** Entries at or after this time (ms since the epoch). */
  since?: number | undefined;
  /** Newest first; default 100. */
  limit?: number | undefined;
}

/** Same shape as `ConfigVersion` in src/config/versions.ts. */
export interface StoredConfigVersion {
  id: number;
  at: number;
  /** SHA-256 of the YAML text, hex. */
  hash: string;
  yaml: string;
  who: string;
  /** The running config; at most one version is live. */
  live: boolean;
}

export type NewStoredConfigVersion = Omit<StoredConfigVersion, 'id' | 'live'>;

export interface ControlStore {
  readonly kind: string;

  /** False (and nothing stored) when a non-revoked key already has this name. */
  insertKey(key: StoredKey): Promise<boolean>;
  findKeyByHash(hash: string): Promise<StoredKey | undefined>;
  /** By id; else the non-revoked key with that name; else the newest revoked key with that name. */
  findKey(idOrName: string): Promise<StoredKey | undefined>;
  /** Oldest first. */
  listKeys(): Promise<StoredKey[]>;
  /** Sets revokedAt unless already revoked; returns the key as stored afterwards. */
  revokeKey(id: string, at: number): Promise<StoredKey | undefined>;

  /** Inserts or replaces the switch for (scope, name). */
  putKill(kill: KillSwitch): Promise<void>;
  /** Removes it; returns what was removed. */
  deleteKill(scope: KillScope, name: string): Promise<KillSwitch | undefined>;
  listKills(): Promise<KillSwitch[]>;

  /** Appends one entry; the store assigns the id. */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;

  /** Appends a version (not live). */
  addConfigVersion(version: NewStoredConfigVersion): Promise<StoredConfigVersion>;
  /** Oldest first. */
  listConfigVersions(): Promise<StoredConfigVersion[]>;
  getConfigVersion(id: number): Promise<StoredConfigVersion | undefined>;
  latestConfigVersion(): Promise<StoredConfigVersion | undefined>;
  /** Makes `id` the only live version; throws when there is no such version. */
  setLiveConfigVersion(id: number): Promise<void>;

  close(): Promise<void>;
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export function auditLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_AUDIT_LIMIT;
  return Math.max(1, Math.min(MAX_AUDIT_LIMIT, Math.floor(limit)));
}
