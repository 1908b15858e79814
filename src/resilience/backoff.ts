/**
 * Exponential backoff with full jitter: a uniform draw in [0, min(cap, base * 2^retry)). Spreads
 * retries of many clients so a recovering upstream is not hit in lockstep.
 */
export function fullJitterDelay(
  retry: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}
