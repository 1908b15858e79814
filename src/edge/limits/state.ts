/**
 * Shared limit state. Every operation is one atomic read-modify-write on one key, so the in-memory
 * store and a later Redis store (one Lua script per call, sketched below) behave the same and limits
 * hold across replicas. Results carry durations relative to the store's own "now" (Redis: `TIME`),
 * never absolute times, so replicas with skewed clocks still agree.
 *
 * Rate buckets use GCRA (the generic cell rate algorithm), i.e. a token bucket stored as one number:
 * the theoretical arrival time `tat` (when the bucket would be full again). For a rule of `capacity`
 * units per `perMs`, one unit costs the emission interval `T = perMs / capacity`:
 *
 *     tat'    = max(tat, now) + cost * T          (the bucket after taking `cost`)
 *     allowed = tat' - perMs <= now                (i.e. at most `capacity` units outstanding)
 *     remaining   = floor((now + perMs - tat') / T)
 *     resetMs     = tat' - now                     (until the bucket is full again)
 *     retryAfterMs = tat' - perMs - now            (when refused: until `cost` units fit)
 *
 * Bursts up to `capacity` are allowed, refilled continuously at `capacity / perMs` (so `rpm: 60` is
 * 60 at once, then one per second), which is what OpenAI's limits do. A bucket whose `tat <= now` is
 * full and indistinguishable from an absent one, so it can be dropped (Redis: `PEXPIREAT tat`).
 *
 * Budgets are ledgers `{ spent, reserved }` in USD for one period. `ledger` names the period (callers
 * put the period in the name, e.g. `budget:key:alice:2025-06`); `periodEndsAt` (epoch ms) only tells
 * the store when it may forget the ledger (Redis: `PEXPIREAT periodEndsAt + grace`).
 */

export interface RateRule {
  /** Units (requests or tokens) the bucket holds; also the largest burst. */
  capacity: number;
  /** Time in which an empty bucket refills completely (60_000 for per-minute limits). */
  perMs: number;
}

export interface TakeResult {
  ok: boolean;
  /** Whole units left after this call (0 when refused or in debt). */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
  /** When refused: milliseconds until `cost` units would fit (0 when ok; Infinity if cost > capacity). */
  retryAfterMs: number;
}

export interface BucketState {
  remaining: number;
  resetMs: number;
}

export interface LedgerResult {
  ok: boolean;
  /** USD settled in this period, after the call. */
  spent: number;
  /** USD reserved by requests still in flight, after the call. */
  reserved: number;
}

export interface LimitStore {
  /**
   * Take `cost` units if they fit, else take nothing. One Lua script:
   *
   *     -- KEYS[1] = bucket; ARGV = cost, capacity, perMs
   *     local t = redis.call('TIME'); local now = t[1] * 1000 + t[2] / 1000
   *     local T = ARGV[3] / ARGV[2]
   *     local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
   *     local new = tat + ARGV[1] * T
   *     if new - ARGV[3] > now + T / 1000 then
   *       return { 0, remaining(tat), tostring(tat - now), tostring(new - ARGV[3] - now) }
   *     end
   *     redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil(new - now))
   *     return { 1, remaining(new), tostring(new - now), '0' }
   */
  take(bucket: string, cost: number, rule: RateRule): Promise<TakeResult>;
  /**
   * Give back `amount` units (a reservation that was not used); never fills past capacity.
   * Lua: `tat = max(tat - amount * T, now)`; `SET ... PX (tat - now)` or `DEL` when full.
   */
  refund(bucket: string, amount: number, rule: RateRule): Promise<BucketState>;
  /**
   * Take `amount` units unconditionally (usage above the reservation), possibly into debt: later
   * `take`s wait until the debt is repaid, so the long-run rate still holds.
   * Lua: `tat = max(tat, now) + amount * T`; `SET ... PX (tat - now)`.
   */
  charge(bucket: string, amount: number, rule: RateRule): Promise<BucketState>;
  /**
   * Reserve `amountUsd` if `spent + reserved + amountUsd <= limitUsd`, else nothing. One Lua script
   * on a hash:
   *
   *     -- KEYS[1] = ledger; ARGV = amount, limit, periodEndsAt
   *     local s = tonumber(redis.call('HGET', KEYS[1], 'spent')) or 0
   *     local r = tonumber(redis.call('HGET', KEYS[1], 'reserved')) or 0
   *     if s + r + ARGV[1] > ARGV[2] + 1e-9 then return { 0, tostring(s), tostring(r) } end
   *     redis.call('HINCRBYFLOAT', KEYS[1], 'reserved', ARGV[1])
   *     redis.call('PEXPIREAT', KEYS[1], ARGV[3] + GRACE)
   *     return { 1, tostring(s), tostring(r + ARGV[1]) }
   */
  reserve(ledger: string, amountUsd: number, limitUsd: number, periodEndsAt: number): Promise<LedgerResult>;
  /**
   * Replace a reservation with the actual cost: `reserved -= reservedUsd` (floored at 0),
   * `spent += actualUsd`. Always succeeds (`ok` is true); spending may exceed the limit when the
   * actual cost exceeded the reservation. Lua: two `HINCRBYFLOAT`s and a `PEXPIREAT`.
   * A release (request failed before using anything) is `settle(ledger, reserved, 0, ...)`.
   */
  settle(ledger: string, reservedUsd: number, actualUsd: number, periodEndsAt: number): Promise<LedgerResult>;
}

/** Float tolerance on a bucket's boundary, in units of one emission interval. */
export const GCRA_TOLERANCE = 1e-3;
/** Float tolerance on a budget's boundary, in USD. */
export const LEDGER_TOLERANCE_USD = 1e-9;
