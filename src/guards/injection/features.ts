/**
 * Hashed features for the injection classifier: character 3- to 5-grams and word unigrams of the
 * canonical text, hashed (FNV-1a) into a fixed number of buckets. No vocabulary to ship, any script.
 */

export const HASH_BITS = 15;
export const DIMENSIONS = 1 << HASH_BITS;
const MASK = DIMENSIONS - 1;
const MIN_N = 3;
const MAX_N = 5;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SALT = 0x9e3779b9;

/** Sparse feature vector: bucket → count. */
export type Features = Map<number, number>;

function bump(out: Features, hash: number): void {
  const bucket = (hash >>> 0) & MASK;
  out.set(bucket, (out.get(bucket) ?? 0) + 1);
}

/** Character n-grams (with a space at each end, so word starts and ends count) and word unigrams. */
export function extractFeatures(text: string, out: Features = new Map()): Features {
  const padded = ` ${text} `;
  const len = padded.length;
  for (let i = 0; i + MIN_N <= len; i++) {
    let h = FNV_OFFSET;
    for (let k = 0; k < MAX_N && i + k < len; k++) {
      h = Math.imul(h ^ padded.charCodeAt(i + k), FNV_PRIME);
      if (k + 1 >= MIN_N) bump(out, h ^ (k + 1));
    }
  }
  let h = FNV_OFFSET ^ WORD_SALT;
  let inWord = false;
  for (let i = 0; i < len; i++) {
    const c = padded.charCodeAt(i);
    if (c === 32) {
      if (inWord) bump(out, h);
      h = FNV_OFFSET ^ WORD_SALT;
      inWord = false;
    } else {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
    }
  }
  return out;
}

/** Scratch counters for textMargin, reused across calls (scoring is synchronous). */
const counts = new Uint16Array(DIMENSIONS);
const touched = new Int32Array(1 << 16);

/**
 * w·x / |x| over the features of `text`, without building a map: the runtime path. Equal to
 * `dot(weights, extractFeatures(text))` up to floating-point summation order.
 */
export function textMargin(weights: ArrayLike<number>, text: string): number {
  let n = 0;
  let sum = 0;
  const add = (hash: number) => {
    const bucket = (hash >>> 0) & MASK;
    if (counts[bucket] === 0 && n < touched.length) touched[n++] = bucket;
    counts[bucket] = Math.min(0xffff, counts[bucket]! + 1);
    sum += weights[bucket] ?? 0;
  };
  const padded = ` ${text} `;
  const len = padded.length;
  for (let i = 0; i + MIN_N <= len; i++) {
    let h = FNV_OFFSET;
    for (let k = 0; k < MAX_N && i + k < len; k++) {
      h = Math.imul(h ^ padded.charCodeAt(i + k), FNV_PRIME);
      if (k + 1 >= MIN_N) add(h ^ (k + 1));
    }
  }
  let h = FNV_OFFSET ^ WORD_SALT;
  let inWord = false;
  for (let i = 0; i < len; i++) {
    const c = padded.charCodeAt(i);
    if (c === 32) {
      if (inWord) add(h);
      h = FNV_OFFSET ^ WORD_SALT;
      inWord = false;
    } else {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
    }
  }
  let norm = 0;
  for (let j = 0; j < n; j++) {
    const bucket = touched[j]!;
    const c = counts[bucket]!;
    norm += c * c;
    counts[bucket] = 0;
  }
  return norm === 0 ? 0 : sum / Math.sqrt(norm);
}

/** w·x / |x| for a sparse count vector: the classifier's margin before its bias. */
export function dot(weights: ArrayLike<number>, features: Features): number {
  let sum = 0;
  let norm = 0;
  for (const [bucket, count] of features) {
    sum += (weights[bucket] ?? 0) * count;
    norm += count * count;
  }
  return norm === 0 ? 0 : sum / Math.sqrt(norm);
}
