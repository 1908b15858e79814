/**
 * In-memory control store: for tests and for a gateway that runs without a control database.
 * Everything is lost at exit. Values are copied in and out, so a caller cannot change stored state
 * (or an audit entry) by mutating what it passed or received.
 */
import {
  type AuditEntry,
  type AuditQuery,
  auditLimit,
  type ControlStore,
  type KillScope,
  type KillSwitch,
  type NewAuditEntry,
  type NewStoredConfigVersion,
  type StoredConfigVersion,
  type StoredKey,
} from './types.ts';

const copyKey = (key: StoredKey): StoredKey => ({ ...key, routes: key.routes ? [...key.routes] : null });
const killId = (scope: KillScope, name: string) => `${scope}\u0000${name}`;

export class MemoryControlStore implements ControlStore {
  readonly kind = 'memory';
  private readonly keys = new Map<string, StoredKey>();
  private readonly byHash = new Map<string, string>();
  private readonly kills = new Map<string, KillSwitch>();
  /** Append-only: entries are pushed and read, never replaced or removed. */
  private readonly auditEntries: AuditEntry[] = [];
  private readonly configVersions: StoredConfigVersion[] = [];

  async insertKey(key: StoredKey): Promise<boolean> {
    for (const existing of this.keys.values()) {
      if (existing.name === key.name && existing.revokedAt === null) return false;
    }
    if (this.keys.has(key.id) || this.byHash.has(key.hash)) throw new Error(`duplicate key ${key.id}`);
    this.keys.set(key.id, copyKey(key));
    this.byHash.set(key.hash, key.id);
    return true;
  }

  async findKeyByHash(hash: string): Promise<StoredKey | undefined> {
    const key = this.keys.get(this.byHash.get(hash) ?? '');
    return key ? copyKey(key) : undefined;
  }

  async findKey(idOrName: string): Promise<StoredKey | undefined> {
    const byId = this.keys.get(idOrName);
    if (byId) return copyKey(byId);
    const named = [...this.keys.values()].filter((k) => k.name === idOrName);
    const found = named.find((k) => k.revokedAt === null) ?? named.at(-1);
    return found ? copyKey(found) : undefined;
  }

  async listKeys(): Promise<StoredKey[]> {
    return [...this.keys.values()].map(copyKey);
  }

  async revokeKey(id: string, at: number): Promise<StoredKey | undefined> {
    const key = this.keys.get(id);
    if (!key) return undefined;
    if (key.revokedAt === null) key.revokedAt = at;
    return copyKey(key);
  }

  async putKill(kill: KillSwitch): Promise<void> {
    this.kills.set(killId(kill.scope, kill.name), { ...kill });
  }

  async deleteKill(scope: KillScope, name: string): Promise<KillSwitch | undefined> {
    const id = killId(scope, name);
    const kill = this.kills.get(id);
    this.kills.delete(id);
    return kill ? { ...kill } : undefined;
  }

  async listKills(): Promise<KillSwitch[]> {
    return [...this.kills.values()].map((k) => ({ ...k }));
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const stored: AuditEntry = Object.freeze({
      ...entry,
      id: this.auditEntries.length + 1,
      // A deep copy, so later changes to the caller's object do not rewrite history.
      details: entry.details === null ? null : structuredClone(entry.details),
    });
    this.auditEntries.push(stored);
    return { ...stored, details: structuredClone(stored.details) };
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    const limit = auditLimit(query.limit);
    for (let i = this.auditEntries.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.auditEntries[i]!;
      if (query.since !== undefined && entry.at < query.since) continue;
      out.push({ ...entry, details: structuredClone(entry.details) });
    }
    return out;
  }

  async addConfigVersion(version: NewStoredConfigVersion): Promise<StoredConfigVersion> {
    const stored: StoredConfigVersion = { ...version, id: this.configVersions.length + 1, live: false };
    this.configVersions.push(stored);
    return { ...stored };
  }

  async listConfigVersions(): Promise<StoredConfigVersion[]> {
    return this.configVersions.map((v) => ({ ...v }));
  }

  async getConfigVersion(id: number): Promise<StoredConfigVersion | undefined> {
    const found = this.configVersions.find((v) => v.id === id);
    return found ? { ...found } : undefined;
  }

  async latestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    const last = this.configVersions.at(-1);
    return last ? { ...last } : undefined;
  }

  async setLiveConfigVersion(id: number): Promise<void> {
    if (!this.configVersions.some((v) => v.id === id)) throw new Error(`no config version ${id}`);
    for (const v of this.configVersions) v.live = v.id === id;
  }

  async close(): Promise<void> {}
}
