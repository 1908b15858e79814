import type { ErrorCode } from '../core/errors.ts';
import type { Usage } from '../core/types.ts';
import type { Provider } from '../providers/provider.ts';
import type { CircuitBreaker } from '../resilience/circuit-breaker.ts';

export interface TargetSettings {
  timeoutMs: number;
  firstTokenTimeoutMs?: number | undefined;
  stallTimeoutMs: number;
  retry: { max: number; baseDelayMs: number; maxDelayMs: number };
  weight: number;
  rank: number;
}

/** One target of a route, resolved: the model, its provider and breaker, and this route's settings. */
export interface Target {
  /** The model's name in keel.yaml. */
  name: string;
  providerName: string;
  upstreamModel: string;
  provider: Provider;
  breaker: CircuitBreaker;
  settings: TargetSettings;
}

export type AttemptReason = 'primary' | 'retry' | 'fallback' | 'hedge';

/** What one attempt did; the router's part of the trace. */
export interface AttemptRecord {
  target: string;
  provider: string;
  reason: AttemptReason;
  /** 0 for a target's first try, n for its n-th retry. */
  retry: number;
  outcome: 'pending' | 'ok' | 'error' | 'cancelled' | 'skipped';
  startedAt: number;
  endedAt?: number;
  latencyMs?: number;
  ttftMs?: number;
  upstreamModel?: string;
  errorCode?: ErrorCode;
  errorMessage?: string;
  upstreamStatus?: number;
  usage?: Usage;
  /** The chaos fault active on the target when the attempt started, if any. */
  chaos?: string;
  /** For skipped attempts: why. */
  skipped?: 'breaker-open' | 'killed';
}
