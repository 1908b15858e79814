/**
 * Deterministic traffic splits: a key hashes to one of 10,000 buckets, so the same user (canary) or
 * the same request id (shadow) always lands on the same side, and a split is exact to 0.01%.
 */
import { createHash } from 'node:crypto';

export const BUCKETS = 10_000;

/** The bucket (0..9999) of `key`: the first 4 bytes of its SHA-256, modulo 10,000. */
export function bucketOf(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % BUCKETS;
}

/** True for `percent`% of keys (0 never, 100 always). */
export function inSample(key: string, percent: number): boolean {
  return bucketOf(key) < Math.round(percent * (BUCKETS / 100));
}
