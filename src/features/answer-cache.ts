/**
 * The last valid answer per input, for the `cached` fallback. The key hashes the feature and the
 * caller's input (variables and messages, keys sorted) but not the prompt version, so an answer
 * survives a new version. `MemoryAnswerCache` is a bounded LRU; a Redis one can implement the port.
 */
import { createHash } from 'node:crypto';
import type { AnswerCachePort, CachedAnswer, FeatureInput } from './ports.ts';

/** JSON with object keys sorted, so equal inputs hash equal whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The cache key of a call: version-agnostic, so the last good answer of any version counts. */
export function inputKey(feature: string, input: FeatureInput): string {
  const hash = createHash('sha256')
    .update(canonical({ feature, ...input }))
    .digest('hex');
  return `${feature}:${hash}`;
}

export interface MemoryAnswerCacheOptions {
  /** Entries kept; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** Answers longer than this (characters) are not kept. Default 64 KiB. */
  maxTextChars?: number;
}

export class MemoryAnswerCache implements AnswerCachePort {
  private readonly entries = new Map<string, CachedAnswer>();
  private readonly maxEntries: number;
  private readonly maxTextChars: number;

  constructor(options: MemoryAnswerCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxTextChars = options.maxTextChars ?? 64 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedAnswer | undefined {
    const answer = this.entries.get(key);
    if (answer === undefined) return undefined;
    // Map order is insertion order: re-inserting marks it most recently used.
    this.entries.delete(key);
    this.entries.set(key, answer);
    return answer;
  }

  set(key: string, answer: CachedAnswer): void {
    if (answer.text.length > this.maxTextChars) return;
    this.entries.delete(key);
    this.entries.set(key, answer);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
