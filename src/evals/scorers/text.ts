/**
 * Deterministic text scorers: exact match, substring containment, regular expression, length bounds.
 */
import { KeelEvalError } from '../errors.ts';
import {
  binary,
  expectedText,
  isScoreError,
  type Param,
  resolveParam,
  type Scorer,
  scoreError,
} from './scorer.ts';

export interface ExactOptions {
  name?: string;
  /** Default: the case's `expected` text. */
  expected?: Param<string>;
  /** Ignore leading/trailing whitespace (default true). */
  trim?: boolean;
  caseSensitive?: boolean;
}

/** 1 when the output equals the expected text. @example exact({ caseSensitive: false }) */
export function exact(options: ExactOptions = {}): Scorer {
  const { trim = true, caseSensitive = true } = options;
  const norm = (s: string) => {
    const t = trim ? s.trim() : s;
    return caseSensitive ? t : t.toLowerCase();
  };
  return {
    name: options.name ?? 'exact',
    kind: 'deterministic',
    async score({ evalCase, output }) {
      const expected = expectedText(evalCase, options.expected);
      if (typeof expected !== 'string') return expected;
      return binary(norm(output) === norm(expected));
    },
  };
}

export interface ContainsOptions {
  name?: string;
  /** Default: the case's `expected` text as the one substring. */
  substrings?: Param<string[]>;
  /** `all` scores the fraction found and passes when all are; `any` scores 1 when one is found. */
  mode?: 'all' | 'any';
  caseSensitive?: boolean;
}

/** Substring containment (case-insensitive unless told). @example contains({ substrings: ['refund'] }) */
export function contains(options: ContainsOptions = {}): Scorer {
  const { mode = 'all', caseSensitive = false } = options;
  const norm = (s: string) => (caseSensitive ? s : s.toLowerCase());
  return {
    name: options.name ?? 'contains',
    kind: 'deterministic',
    async score({ evalCase, output }) {
      let substrings = resolveParam(options.substrings, evalCase);
      if (substrings === undefined) {
        const expected = expectedText(evalCase);
        if (isScoreError(expected)) return expected;
        substrings = [expected];
      }
      if (substrings.length === 0) return scoreError(`case "${evalCase.id}": no substrings to look for`);
      const text = norm(output);
      const missing = substrings.filter((s) => !text.includes(norm(s)));
      const found = substrings.length - missing.length;
      const detail = missing.length
        ? `missing: ${missing.map((s) => JSON.stringify(s)).join(', ')}`
        : undefined;
      if (mode === 'any') return binary(found > 0, found > 0 ? undefined : detail);
      const result = { value: found / substrings.length, pass: missing.length === 0 };
      return detail ? { ...result, detail } : result;
    },
  };
}

export interface RegexOptions {
  name?: string;
  pattern: string | RegExp;
  flags?: string;
}

/** 1 when the output matches the pattern. @example regex({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }) */
export function regex(options: RegexOptions): Scorer {
  let pattern: RegExp;
  try {
    const source = typeof options.pattern === 'string' ? options.pattern : options.pattern.source;
    const flags = (options.flags ?? (typeof options.pattern === 'string' ? '' : options.pattern.flags))
      .replace('g', '')
      .replace('y', '');
    pattern = new RegExp(source, flags);
  } catch (error) {
    throw new KeelEvalError(
      'KEEL_EVAL_CONFIG_INVALID',
      `regex scorer: pattern is invalid: ${(error as Error).message}`,
    );
  }
  return {
    name: options.name ?? 'regex',
    kind: 'deterministic',
    async score({ output }) {
      const matched = pattern.test(output);
      return binary(matched, matched ? undefined : `no match for /${pattern.source}/${pattern.flags}`);
    },
  };
}

export interface LengthOptions {
  name?: string;
  min?: number;
  max?: number;
  /** Count Unicode characters (default) or whitespace-separated words. */
  unit?: 'chars' | 'words';
}

/** 1 when the output's length is within [min, max]. @example lengthBounds({ max: 120, unit: 'words' }) */
export function lengthBounds(options: LengthOptions): Scorer {
  const { min = 0, max = Number.POSITIVE_INFINITY, unit = 'chars' } = options;
  if (min > max)
    throw new KeelEvalError('KEEL_EVAL_CONFIG_INVALID', `length scorer: min ${min} is above max ${max}`);
  return {
    name: options.name ?? 'length',
    kind: 'deterministic',
    async score({ output }) {
      const length = unit === 'chars' ? [...output].length : output.split(/\s+/).filter(Boolean).length;
      const ok = length >= min && length <= max;
      return binary(ok, `${length} ${unit} (bounds ${min}..${max})`);
    },
  };
}
