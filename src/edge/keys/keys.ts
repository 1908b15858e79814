/**
 * Virtual keys: per-caller API keys with their own routes, rate limits, budget and expiry.
 *
 * A key is `sk-keel-` + 32 random bytes (base64url). Only its SHA-256 is stored; the secret is
 * returned once, by `createKey`, and can never be shown again. Authentication hashes the presented
 * key, looks the hash up, and compares the digests with `timingSafeEqual`. An unknown, revoked or
 * expired key gets the same 401 message, so an answer never tells which keys exist.
 *
 * Lookups are cached in memory for at most `cacheTtlMs` (default 1 s). A revocation made through this
 * object drops the key from this process's cache at once; other replicas sharing the store see it when
 * their cache entry expires, so within `cacheTtlMs`. Expiry is checked on every request, cached or not.
 * Only found keys are cached (bounded), so a flood of random keys cannot grow the cache.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Clock, systemClock } from '../../core/clock.ts';
import { KeelError } from '../../core/errors.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { BudgetPeriod, ControlStore, StoredKey } from '../control-store/types.ts';
import { forbiddenError, unauthorizedError } from './errors.ts';

export const KEY_PREFIX = 'sk-keel-';

/** A key as the rest of Keel sees it: never the secret, never the hash. */
export type KeyRecord = Omit<StoredKey, 'hash'>;

export type KeyStatus = 'active' | 'revoked' | 'expired';

export interface KeyListing extends KeyRecord {
  status: KeyStatus;
}

export interface CreateKeyInput {
  name: string;
  routes?: readonly string[] | null | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
  budgetUsd?: number | undefined;
  /** Default 'month' when budgetUsd is set. */
  budgetPeriod?: BudgetPeriod | undefined;
  /** ms since the epoch, a Date, or an ISO string; must be in the future. */
  expiresAt?: number | Date | string | undefined;
}

export interface Actor {
  who: string;
  reason?: string | undefined;
}

export interface KeysOptions {
  clock?: Pick<Clock, 'now'> | undefined;
  /** How long a found key is trusted without asking the store; default 1000 ms. */
  cacheTtlMs?: number | undefined;
  /** Most keys cached; default 10 000. */
  cacheMax?: number | undefined;
}

/** Names are what operators type and what limits and traces show. `key_…` is reserved for ids. */
export const KEY_NAME = /^(?!key_)[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const INVALID = 'invalid API key';
const MISSING = 'missing API key; send "Authorization: Bearer <key>"';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

function record(key: StoredKey): KeyRecord {
  const { hash: _hash, ...rest } = key;
  return { ...rest, routes: rest.routes ? [...rest.routes] : null };
}

function invalid(message: string, param: string): KeelError {
  return new KeelError('KEEL_INVALID_REQUEST', message, { param });
}

function positiveInt(value: number | undefined, param: string): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value <= 0)
    throw invalid(`${param}: must be a positive whole number`, param);
  return value;
}

function time(value: number | Date | string | undefined): number | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (!Number.isFinite(ms)) throw invalid('expiresAt: must be a date', 'expiresAt');
  return ms;
}

export class Keys {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly ttl: number;
  private readonly max: number;
  /** hash hex → the stored key and when the entry stops being trusted. */
  private readonly cache = new Map<string, { key: StoredKey; until: number }>();
  /** Bumped by every revocation: a lookup that read the store before one must not cache its answer. */
  private revocations = 0;

  constructor(
    private readonly store: Pick<
      ControlStore,
      'insertKey' | 'findKeyByHash' | 'findKey' | 'listKeys' | 'revokeKey'
    >,
    private readonly audit: AuditLog,
    options: KeysOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.ttl = options.cacheTtlMs ?? 1000;
    this.max = options.cacheMax ?? 10_000;
  }

  /** Makes a key. The secret is in the answer and nowhere else: show it once. */
  async createKey(
    input: CreateKeyInput,
    by: Actor = { who: 'system' },
  ): Promise<{ key: KeyRecord; secret: string }> {
    if (!KEY_NAME.test(input.name)) {
      throw invalid(
        'name: 1-64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit (not "key_")',
        'name',
      );
    }
    let routes: string[] | null = null;
    if (input.routes !== undefined && input.routes !== null) {
      routes = [...new Set(input.routes)];
      if (routes.length === 0 || routes.some((r) => r.length === 0)) {
        throw invalid('routes: list at least one route name, or leave it out to allow every route', 'routes');
      }
    }
    const budgetUsd = input.budgetUsd ?? null;
    if (budgetUsd !== null && !(Number.isFinite(budgetUsd) && budgetUsd > 0)) {
      throw invalid('budgetUsd: must be a positive number', 'budgetUsd');
    }
    if (input.budgetPeriod !== undefined && budgetUsd === null) {
      throw invalid('budgetPeriod: only with budgetUsd', 'budgetPeriod');
    }
    const now = this.clock.now();
    const expiresAt = time(input.expiresAt);
    if (expiresAt !== null && expiresAt <= now)
      throw invalid('expiresAt: must be in the future', 'expiresAt');

    const secret = KEY_PREFIX + randomBytes(32).toString('base64url');
    const stored: StoredKey = {
      id: `key_${randomBytes(8).toString('hex')}`,
      name: input.name,
      hash: sha256(secret).toString('hex'),
      prefix: `${secret.slice(0, KEY_PREFIX.length + 4)}…`,
      routes,
      rpm: positiveInt(input.rpm, 'rpm'),
      tpm: positiveInt(input.tpm, 'tpm'),
      budgetUsd,
      budgetPeriod: budgetUsd === null ? null : (input.budgetPeriod ?? 'month'),
      expiresAt,
      createdAt: now,
      revokedAt: null,
    };
    if (!(await this.store.insertKey(stored))) {
      throw invalid(`name: a key named "${input.name}" exists; revoke it first or pick another name`, 'name');
    }
    const key = record(stored);
    await this.audit.append({
      who: by.who,
      action: 'key.create',
      subject: key.id,
      reason: by.reason,
      details: {
        name: key.name,
        prefix: key.prefix,
        routes: key.routes,
        rpm: key.rpm,
        tpm: key.tpm,
        budgetUsd: key.budgetUsd,
        budgetPeriod: key.budgetPeriod,
        expiresAt: key.expiresAt,
      },
    });
    return { key, secret };
  }

  /**
   * Revokes by id, or by name (the non-revoked key with that name). Takes effect at once in this
   * process; within `cacheTtlMs` on other replicas. Revoking a revoked key changes nothing and is not
   * audited again. 404 when no key matches.
   */
  async revokeKey(idOrName: string, by: Actor = { who: 'system' }): Promise<KeyRecord> {
    const found = await this.store.findKey(idOrName);
    if (!found) {
      throw new KeelError('KEEL_NOT_FOUND', `no key with id or name "${idOrName.slice(0, 128)}"`, {
        param: 'id',
      });
    }
    this.revocations++;
    this.cache.delete(found.hash);
    if (found.revokedAt !== null) return record(found);
    const revoked = (await this.store.revokeKey(found.id, this.clock.now())) ?? found;
    this.revocations++;
    this.cache.delete(found.hash);
    await this.audit.append({
      who: by.who,
      action: 'key.revoke',
      subject: revoked.id,
      reason: by.reason,
      details: { name: revoked.name, prefix: revoked.prefix },
    });
    return record(revoked);
  }

  /** Every key, oldest first, with its status. Never a secret or a hash. */
  async listKeys(): Promise<KeyListing[]> {
    const now = this.clock.now();
    return (await this.store.listKeys()).map((k) => ({ ...record(k), status: this.status(k, now) }));
  }

  status(key: Pick<KeyRecord, 'revokedAt' | 'expiresAt'>, now = this.clock.now()): KeyStatus {
    if (key.revokedAt !== null) return 'revoked';
    if (key.expiresAt !== null && now >= key.expiresAt) return 'expired';
    return 'active';
  }

  /**
   * The key an `Authorization: Bearer sk-keel-…` header presents. 401 when it is missing, or when it
   * is unknown, revoked or expired (one message for the three).
   */
  async authenticate(authorization: string | undefined): Promise<KeyRecord> {
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const presented = match?.[1];
    if (presented === undefined) throw unauthorizedError(MISSING);
    if (!presented.startsWith(KEY_PREFIX) || presented.length > 256) throw unauthorizedError(INVALID);
    const digest = sha256(presented);
    const hash = digest.toString('hex');
    const now = this.clock.now();
    let key = this.cached(hash, now);
    if (!key) {
      const revocations = this.revocations;
      key = await this.store.findKeyByHash(hash);
      if (key && revocations === this.revocations) this.remember(hash, key, now);
    }
    if (
      !key ||
      !timingSafeEqual(Buffer.from(key.hash, 'hex'), digest) ||
      this.status(key, now) !== 'active'
    ) {
      throw unauthorizedError(INVALID);
    }
    return record(key);
  }

  /** 403 when the key may not use `route`. The message names that route only. */
  authorize(key: Pick<KeyRecord, 'routes'>, route: string): void {
    if (key.routes !== null && !key.routes.includes(route)) {
      throw forbiddenError(`this API key may not use route "${route.slice(0, 200)}"`);
    }
  }

  private cached(hash: string, now: number): StoredKey | undefined {
    const entry = this.cache.get(hash);
    if (!entry) return undefined;
    if (entry.until > now) return entry.key;
    this.cache.delete(hash);
    return undefined;
  }

  private remember(hash: string, key: StoredKey, now: number): void {
    if (this.ttl <= 0) return;
    if (this.cache.size >= this.max) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(hash, { key, until: now + this.ttl });
  }
}

/** The limiter's view of a key (src/edge/limits): its name names the buckets. */
export function keyLimits(key: KeyRecord): {
  name: string;
  rpm: number | undefined;
  tpm: number | undefined;
  budgetUsd: number | undefined;
  budgetPeriod: BudgetPeriod | undefined;
} {
  return {
    name: key.name,
    rpm: key.rpm ?? undefined,
    tpm: key.tpm ?? undefined,
    budgetUsd: key.budgetUsd ?? undefined,
    budgetPeriod: key.budgetPeriod ?? undefined,
  };
}
