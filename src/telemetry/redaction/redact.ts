import { createHmac } from 'node:crypto';
import { detectStructured } from './patterns.ts';
import { detectSecrets, looksLikeSecretValue, SECRET_KEY_NAME } from './secrets.ts';
import type { BodyPolicyMode, EntityType, RedactionResult, Span } from './types.ts';
import { emptyCounts } from './types.ts';

export const DROPPED_BODY = '[dropped]';
export const REDACTION_FAILED = '[dropped: redaction failed]';
const MAX_DEPTH = 64;

/**
 * Every detector needs one of these to match: a digit (cards, phones, IBANs, ids, IPs), `@` (email),
 * `:` or `=` (URL passwords, IPv6, key=value secrets), `_`, a hyphen inside a word or `-----` (vendor
 * token prefixes, PEM), the letter-only token prefixes (AKIA, ASIA, AIza, eyJ), or a password / bearer
 * / authorization word. Text with none of them (most prose) skips the ~20 detectors.
 */
const MAY_HOLD_PII = /[\d@=:_]|\w-\w|-----|AKIA|ASIA|AIza|eyJ/;
const MAY_HOLD_SECRET_WORD = /pass|pwd|bearer|authoriz/i;

export function mayHoldPii(text: string): boolean {
  return MAY_HOLD_PII.test(text) || MAY_HOLD_SECRET_WORD.test(text);
}

/** All detected entities, non-overlapping, in text order. Lower priority wins, then earlier, then longer. */
export function detect(text: string): Span[] {
  const candidates: Span[] = [];
  if (!mayHoldPii(text)) return candidates;
  detectSecrets(text, candidates);
  detectStructured(text, candidates);
  if (candidates.length === 0) return candidates;
  candidates.sort((a, b) => a.priority - b.priority || a.start - b.start || b.end - a.end);
  const taken = new Uint8Array(text.length);
  const accepted: Span[] = [];
  for (const span of candidates) {
    let free = true;
    for (let i = span.start; i < span.end; i++) {
      if (taken[i] === 1) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    taken.fill(1, span.start, span.end);
    accepted.push(span);
  }
  return accepted.sort((a, b) => a.start - b.start);
}

function normalize(type: EntityType, value: string): string {
  switch (type) {
    case 'EMAIL':
    case 'IP':
      return value.toLowerCase();
    case 'SECRET':
      return value;
    default:
      return value.replace(/[\s()./-]/g, '').toUpperCase();
  }
}

/**
 * Numbering/hashing state shared by every string of one call, so the same value
 * gets the same placeholder across a whole body.
 */
class Replacer {
  readonly found = emptyCounts();
  private readonly next = emptyCounts();
  private readonly assigned = new Map<string, string>();

  constructor(
    private readonly mode: 'redact' | 'hash',
    private readonly salt: string,
  ) {
    if (mode === 'hash' && salt.length === 0) throw new RangeError('hashPii requires a non-empty salt');
  }

  placeholder(type: EntityType, value: string): string {
    this.found[type] += 1;
    const key = `${type}\u0000${normalize(type, value)}`;
    const known = this.assigned.get(key);
    if (known !== undefined) return known;
    let out: string;
    if (this.mode === 'hash') {
      out = `<${type}:${createHmac('sha256', this.salt).update(key).digest('hex').slice(0, 8)}>`;
    } else {
      this.next[type] += 1;
      out = `<${type}_${this.next[type]}>`;
    }
    this.assigned.set(key, out);
    return out;
  }

  text(text: string): string {
    const spans = detect(text);
    if (spans.length === 0) return text;
    let out = '';
    let at = 0;
    for (const s of spans) {
      out += text.slice(at, s.start) + this.placeholder(s.type, text.slice(s.start, s.end));
      at = s.end;
    }
    return out + text.slice(at);
  }

  /** A string value stored under a secret-looking key is a secret as a whole. */
  keyed(key: string, value: string): string {
    if (SECRET_KEY_NAME.test(key) && looksLikeSecretValue(value)) return this.placeholder('SECRET', value);
    return this.text(value);
  }

  /** Integers are scanned too: a card number stored as a JSON number is still a card number. */
  number(value: number): number | string {
    if (!Number.isSafeInteger(value) || Math.abs(value) < 1e7) return value;
    const s = String(value);
    const spans = detect(s);
    const only = spans[0];
    if (spans.length === 1 && only && only.start === 0 && only.end === s.length) {
      return this.placeholder(only.type, s);
    }
    return value;
  }

  deep(value: unknown, depth: number, ancestors: Set<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number') return this.number(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_DEPTH) throw new RangeError(`value nested deeper than ${MAX_DEPTH} levels`);
    if (ancestors.has(value)) return '[circular]';
    if (value instanceof Date) return value.toISOString();
    ancestors.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => this.deep(v, depth + 1, ancestors));
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v: unknown = (value as Record<string, unknown>)[key];
        out[key] = typeof v === 'string' ? this.keyed(key, v) : this.deep(v, depth + 1, ancestors);
      }
      return out;
    } finally {
      ancestors.delete(value);
    }
  }
}

/** Replace every entity with a typed, numbered placeholder such as `<EMAIL_1>`. */
export function redact(text: string): RedactionResult {
  const r = new Replacer('redact', '');
  return { text: r.text(text), found: r.found };
}

/** Replace every entity with a keyed digest such as `<EMAIL:ab12cd34>` (HMAC-SHA256, first 8 hex). */
export function hashPii(text: string, salt: string): RedactionResult {
  const r = new Replacer('hash', salt);
  return { text: r.text(text), found: r.found };
}

/** Redact every string inside a JSON-like value; returns a new value, keys untouched. */
export function redactDeep(value: unknown): unknown {
  return new Replacer('redact', '').deep(value, 0, new Set());
}

/**
 * Apply a trace body policy. Fails closed: if anything goes wrong while
 * redacting or hashing, the body is replaced and the raw value never returned.
 */
export function applyBodyPolicy(value: unknown, mode: BodyPolicyMode, salt: string): unknown {
  try {
    if (mode === 'drop') return DROPPED_BODY;
    if (mode !== 'redact' && mode !== 'hash') throw new TypeError(`unknown body policy: ${String(mode)}`);
    return new Replacer(mode, salt).deep(value, 0, new Set());
  } catch {
    return REDACTION_FAILED;
  }
}
