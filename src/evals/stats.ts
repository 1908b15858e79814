/**
 * The statistics the gate needs: a seeded random generator (so a verdict is reproducible), means, and a
 * percentile bootstrap confidence interval of a mean.
 */

import { seededRandom } from '../core/random.ts';

export { seededRandom };

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (position - below);
}

export interface BootstrapOptions {
  /** Resamples drawn (default 2000). */
  resamples?: number;
  /** Seed of the generator (default 1): the same data and seed give the same interval. */
  seed?: number;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
}

/**
 * Percentile bootstrap CI of the mean: resample the values with replacement `resamples` times, and take
 * the (1−c)/2 and (1+c)/2 quantiles of the resampled means.
 */
export function bootstrapMeanCI(values: readonly number[], options: BootstrapOptions = {}): [number, number] {
  const { resamples = 2000, seed = 1, confidence = 0.95 } = options;
  const n = values.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const random = seededRandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const sorted = Array.from(means);
  const tail = (1 - confidence) / 2;
  return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
}
