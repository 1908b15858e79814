import type { Clock } from '../../core/clock.ts';
import {
  type BucketState,
  GCRA_TOLERANCE,
  LEDGER_TOLERANCE_USD,
  type LedgerResult,
  type LimitStore,
  type RateRule,
  type TakeResult,
} from './state.ts';

export interface MemoryLimitStoreOptions {
  clock: Clock;
  /** Hard cap on buckets held; past it the least recently used is dropped (forgetting its usage). */
  maxBuckets?: number;
  /** Hard cap on ledgers held; past it the least recently used is dropped. */
  maxLedgers?: number;
  /** How long after its period ends a ledger is kept, so late settlements still land. */
  ledgerGraceMs?: number;
  /** Entries examined for idleness per call (amortised sweep; keeps each call O(1)). */
  sweepPerCall?: number;
}

interface Ledger {
  spent: number;
  reserved: number;
  expiresAt: number;
}

/**
 * The single-process LimitStore. JavaScript runs each method body without interleaving, so every
 * call is atomic just as a Lua script is in Redis. Memory is bounded: full buckets (`tat <= now`) and
 * expired ledgers are swept a few per call, and hard caps evict the least recently used entry.
 */
export class MemoryLimitStore implements LimitStore {
  private readonly clock: Clock;
  /** Times are kept relative to `epoch` so GCRA sums keep float precision. */
  private readonly epoch: number;
  private readonly maxBuckets: number;
  private readonly maxLedgers: number;
  private readonly ledgerGraceMs: number;
  private readonly sweepPerCall: number;
  /** bucket -> tat (relative ms). Map order is least recently used first. */
  private readonly buckets = new Map<string, number>();
  private readonly ledgers = new Map<string, Ledger>();
  private forced = 0;
  /** Round-robin sweep positions; Map iterators stay valid while entries are added and deleted. */
  private bucketCursor: Iterator<[string, number]> | undefined;
  private ledgerCursor: Iterator<[string, Ledger]> | undefined;

  constructor(options: MemoryLimitStoreOptions) {
    this.clock = options.clock;
    this.epoch = options.clock.now();
    this.maxBuckets = Math.max(1, options.maxBuckets ?? 100_000);
    this.maxLedgers = Math.max(1, options.maxLedgers ?? 100_000);
    this.ledgerGraceMs = options.ledgerGraceMs ?? 3_600_000;
    this.sweepPerCall = Math.max(1, options.sweepPerCall ?? 8);
  }

  async take(bucket: string, cost: number, rule: RateRule): Promise<TakeResult> {
    const now = this.now();
    this.sweepBuckets(now);
    const T = interval(rule);
    const tat = Math.max(this.buckets.get(bucket) ?? now, now);
    if (!(cost <= rule.capacity)) {
      return {
        ok: false,
        remaining: remaining(tat, now, rule),
        resetMs: ms(tat - now),
        retryAfterMs: Infinity,
      };
    }
    const next = tat + cost * T;
    const waitMs = next - rule.perMs - now;
    if (waitMs > T * GCRA_TOLERANCE) {
      return {
        ok: false,
        remaining: remaining(tat, now, rule),
        resetMs: ms(tat - now),
        retryAfterMs: ms(waitMs),
      };
    }
    this.setBucket(bucket, next, now);
    return { ok: true, remaining: remaining(next, now, rule), resetMs: ms(next - now), retryAfterMs: 0 };
  }

  async refund(bucket: string, amount: number, rule: RateRule): Promise<BucketState> {
    const now = this.now();
    const tat = this.buckets.get(bucket);
    if (tat === undefined || tat <= now) {
      this.buckets.delete(bucket);
      return { remaining: Math.floor(rule.capacity), resetMs: 0 };
    }
    const next = Math.max(tat - Math.max(0, amount) * interval(rule), now);
    this.setBucket(bucket, next, now);
    return { remaining: remaining(next, now, rule), resetMs: ms(next - now) };
  }

  async charge(bucket: string, amount: number, rule: RateRule): Promise<BucketState> {
    const now = this.now();
    this.sweepBuckets(now);
    const next = Math.max(this.buckets.get(bucket) ?? now, now) + Math.max(0, amount) * interval(rule);
    this.setBucket(bucket, next, now);
    return { remaining: remaining(next, now, rule), resetMs: ms(next - now) };
  }

  async reserve(
    ledger: string,
    amountUsd: number,
    limitUsd: number,
    periodEndsAt: number,
  ): Promise<LedgerResult> {
    const now = this.clock.now();
    this.sweepLedgers(now);
    const entry = this.ledgerOf(ledger, periodEndsAt, now);
    if (entry.spent + entry.reserved + amountUsd > limitUsd + LEDGER_TOLERANCE_USD) {
      return { ok: false, spent: entry.spent, reserved: entry.reserved };
    }
    entry.reserved += Math.max(0, amountUsd);
    this.touchLedger(ledger, entry);
    return { ok: true, spent: entry.spent, reserved: entry.reserved };
  }

  async settle(
    ledger: string,
    reservedUsd: number,
    actualUsd: number,
    periodEndsAt: number,
  ): Promise<LedgerResult> {
    const now = this.clock.now();
    const entry = this.ledgerOf(ledger, periodEndsAt, now);
    entry.reserved -= Math.max(0, reservedUsd);
    if (entry.reserved < LEDGER_TOLERANCE_USD) entry.reserved = 0;
    entry.spent += Math.max(0, actualUsd);
    this.touchLedger(ledger, entry);
    return { ok: true, spent: entry.spent, reserved: entry.reserved };
  }

  /** For tests and an admin view: the ledger as stored, if any. */
  peekLedger(ledger: string): { spent: number; reserved: number } | undefined {
    const entry = this.ledgers.get(ledger);
    return entry === undefined ? undefined : { spent: entry.spent, reserved: entry.reserved };
  }

  /** For tests: what a bucket holds now, without changing it. */
  peekBucket(bucket: string, rule: RateRule): BucketState {
    const now = this.now();
    const tat = Math.max(this.buckets.get(bucket) ?? now, now);
    return { remaining: remaining(tat, now, rule), resetMs: ms(tat - now) };
  }

  size(): { buckets: number; ledgers: number; forcedEvictions: number } {
    return { buckets: this.buckets.size, ledgers: this.ledgers.size, forcedEvictions: this.forced };
  }

  private now(): number {
    return this.clock.now() - this.epoch;
  }

  private setBucket(bucket: string, tat: number, now: number): void {
    this.buckets.delete(bucket);
    if (tat <= now) return;
    this.buckets.set(bucket, tat);
    while (this.buckets.size > this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
      this.forced++;
    }
  }

  /** Drops full buckets, examining a few per call round-robin. */
  private sweepBuckets(now: number): void {
    for (let i = 0; i < this.sweepPerCall && this.buckets.size > 0; i++) {
      this.bucketCursor ??= this.buckets.entries();
      const next = this.bucketCursor.next();
      if (next.done) {
        this.bucketCursor = undefined;
        continue;
      }
      const [name, tat] = next.value;
      if (tat <= now) this.buckets.delete(name);
    }
  }

  private ledgerOf(ledger: string, periodEndsAt: number, now: number): Ledger {
    const entry = this.ledgers.get(ledger);
    if (entry !== undefined && entry.expiresAt > now) {
      entry.expiresAt = Math.max(entry.expiresAt, periodEndsAt + this.ledgerGraceMs);
      return entry;
    }
    return { spent: 0, reserved: 0, expiresAt: periodEndsAt + this.ledgerGraceMs };
  }

  private touchLedger(ledger: string, entry: Ledger): void {
    this.ledgers.delete(ledger);
    this.ledgers.set(ledger, entry);
    while (this.ledgers.size > this.maxLedgers) {
      const oldest = this.ledgers.keys().next();
      if (oldest.done) break;
      this.ledgers.delete(oldest.value);
      this.forced++;
    }
  }

  private sweepLedgers(now: number): void {
    for (let i = 0; i < this.sweepPerCall && this.ledgers.size > 0; i++) {
      this.ledgerCursor ??= this.ledgers.entries();
      const next = this.ledgerCursor.next();
      if (next.done) {
        this.ledgerCursor = undefined;
        continue;
      }
      const [name, entry] = next.value;
      if (entry.expiresAt <= now) this.ledgers.delete(name);
    }
  }
}

function interval(rule: RateRule): number {
  return rule.perMs / rule.capacity;
}

/** Whole units left in a bucket whose tat is `tat` (>= now). */
function remaining(tat: number, now: number, rule: RateRule): number {
  if (!(rule.capacity > 0)) return 0;
  const T = interval(rule);
  const units = (now + rule.perMs - tat) / T;
  return Math.max(0, Math.floor(units + GCRA_TOLERANCE));
}

function ms(value: number): number {
  return Math.max(0, Math.ceil(value - 1e-9));
}
