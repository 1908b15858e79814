/**
 * Deterministic numeric scorer: the number in the output is within a tolerance of the expected number.
 */
import { binary, type Param, resolveParam, type Scorer, scoreError } from './scorer.ts';

const NUMBER = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?|-?\.\d+/gi;

/** The output as a number when it is one; else the last number written in it (`1,234.5` reads as 1234.5). */
export function extractNumber(output: string): number | undefined {
  const whole = Number(output.trim());
  if (output.trim() !== '' && Number.isFinite(whole)) return whole;
  const last = output.match(NUMBER)?.at(-1);
  return last === undefined ? undefined : Number(last.replaceAll(',', ''));
}

export interface NumericOptions {
  name?: string;
  /** Default: the case's `expected` text read as a number. */
  expected?: Param<number>;
  /** Absolute tolerance (default 0). */
  absolute?: number;
  /** Relative tolerance as a fraction of |expected| (default 0). The larger of the two applies. */
  relative?: number;
}

/** 1 when |output − expected| ≤ max(absolute, relative·|expected|). @example numericTolerance({ absolute: 0.01 }) */
export function numericTolerance(options: NumericOptions = {}): Scorer {
  const { absolute = 0, relative = 0 } = options;
  return {
    name: options.name ?? 'numeric',
    kind: 'deterministic',
    async score({ evalCase, output }) {
      let expected = resolveParam(options.expected, evalCase);
      if (expected === undefined && typeof evalCase.expected === 'string') {
        const read = Number(evalCase.expected.trim());
        if (evalCase.expected.trim() !== '' && Number.isFinite(read)) expected = read;
      }
      if (expected === undefined) return scoreError(`case "${evalCase.id}" has no expected number`);
      const actual = extractNumber(output);
      if (actual === undefined) return binary(false, 'no number in the output');
      const tolerance = Math.max(absolute, relative * Math.abs(expected));
      const off = Math.abs(actual - expected);
      // A hair of slack so that 0.1 + 0.2 equals 0.3 at zero tolerance.
      const slack = 1e-9 * Math.max(1, Math.abs(expected));
      return binary(off <= tolerance + slack, `got ${actual}, expected ${expected} ± ${tolerance}`);
    },
  };
}
