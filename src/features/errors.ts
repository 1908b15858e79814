/**
 * Errors a feature call ends with: KeelErrors with core codes, carrying the decision path so far, so
 * the trace shows how it got there.
 */
import { KeelError } from '../core/errors.ts';
import type { DecisionStep } from './decision.ts';

export const FEATURE_ERROR_STATUS = {
  /** No feature of that name. */
  KEEL_FEATURE_NOT_FOUND: 404,
  /** An input guard refused the request (400 or 403, as the guard says). */
  KEEL_GUARD_BLOCKED: 400,
  /** An output guard withheld the answer. */
  KEEL_OUTPUT_BLOCKED: 502,
  /** The prompt's label points at no version and none is known to be good. */
  KEEL_PROMPT_UNAVAILABLE: 503,
  /** Every attempt, retry and fallback failed. */
  KEEL_FEATURE_FAILED: 502,
} as const;

export type FeatureErrorCode = keyof typeof FEATURE_ERROR_STATUS;

export interface FeatureErrorOptions {
  status?: number;
  path?: DecisionStep[];
  /** The guard that blocked, for KEEL_GUARD_BLOCKED / KEEL_OUTPUT_BLOCKED. */
  guard?: string;
  param?: string;
  cause?: unknown;
}

export class FeatureError extends KeelError {
  declare readonly code: FeatureErrorCode;
  readonly path: DecisionStep[];
  readonly guard: string | undefined;

  constructor(code: FeatureErrorCode, message: string, options: FeatureErrorOptions = {}) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.param === undefined ? {} : { param: options.param }),
      status: options.status ?? FEATURE_ERROR_STATUS[code],
    });
    this.name = 'FeatureError';
    this.path = options.path ?? [];
    this.guard = options.guard;
  }
}
