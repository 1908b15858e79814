import { KeelError } from '../../core/errors.ts';

/** The codes edge control answers with: all 429 rate_limit_error, never retried, never a breaker failure. */
export type EdgeErrorCode = 'KEEL_RATE_LIMITED' | 'KEEL_BUDGET_EXCEEDED' | 'KEEL_OVERLOADED';

/** Which limit refused the request. */
export type LimitKind = 'requests' | 'tokens' | 'budget';
export type LimitScope = 'key' | 'route';

export interface LimitDetail {
  kind: LimitKind;
  scope: LimitScope;
  /** The key's or route's name. */
  subject: string;
  /** The limit: requests or tokens per minute, or USD per period. */
  limit: number;
  /** What this request asked for (1 request, estimated tokens, worst-case USD). */
  requested: number;
  /** False when waiting cannot help: the request alone is larger than the limit. */
  fits: boolean;
}

export type ShedReason = 'queue_full' | 'displaced' | 'queue_timeout' | 'deadline' | 'predicted_wait';

export interface ShedDetail {
  route: string;
  reason: ShedReason;
}

export class EdgeError extends KeelError {
  readonly edgeCode: EdgeErrorCode;
  readonly limit: LimitDetail | undefined;
  readonly shed: ShedDetail | undefined;

  constructor(
    edgeCode: EdgeErrorCode,
    message: string,
    details: { retryAfterMs?: number | undefined; limit?: LimitDetail; shed?: ShedDetail },
  ) {
    super(
      edgeCode,
      message,
      details.retryAfterMs === undefined ? {} : { retryAfterMs: details.retryAfterMs },
    );
    this.name = 'EdgeError';
    this.edgeCode = edgeCode;
    this.limit = details.limit;
    this.shed = details.shed;
  }
}

export function rateLimitedError(message: string, limit: LimitDetail, retryAfterMs?: number): EdgeError {
  return new EdgeError('KEEL_RATE_LIMITED', message, { retryAfterMs, limit });
}

export function budgetExceededError(message: string, limit: LimitDetail, retryAfterMs?: number): EdgeError {
  return new EdgeError('KEEL_BUDGET_EXCEEDED', message, { retryAfterMs, limit });
}

export function overloadedError(message: string, shed: ShedDetail, retryAfterMs: number): EdgeError {
  return new EdgeError('KEEL_OVERLOADED', message, { retryAfterMs, shed });
}
