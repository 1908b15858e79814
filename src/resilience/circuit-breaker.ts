import { CircuitState, CountBreaker } from 'cockatiel';
import type { Clock } from '../core/clock.ts';

export interface BreakerOptions {
  failureRate: number;
  window: number;
  minCalls: number;
  openMs: number;
}

export type BreakerState =
  | { kind: 'closed' }
  | { kind: 'open'; openedAt: number; retryAt: number }
  | { kind: 'half-open'; probing: boolean };

export interface BreakerTransition {
  from: BreakerState['kind'];
  to: BreakerState['kind'];
  at: number;
}

/**
 * A circuit breaker per target: failure rate over a count-based sliding window with a minimum number
 * of calls (cockatiel's CountBreaker does the counting), then open → one half-open probe → closed.
 *
 * Why not cockatiel's CircuitBreakerPolicy itself: its `execute(fn)` ties an outcome to one promise and
 * makes concurrent callers wait for a half-open probe to finish. A gateway must skip an unavailable
 * target at once, and a streamed answer's outcome is known only when the stream ends, so outcomes are
 * recorded explicitly here.
 */
export class CircuitBreaker {
  private current: BreakerState = { kind: 'closed' };
  private window: CountBreaker;
  private readonly listeners: Array<(t: BreakerTransition) => void> = [];

  constructor(
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
  ) {
    this.window = this.newWindow();
  }

  private newWindow(): CountBreaker {
    const { failureRate, window, minCalls } = this.options;
    return new CountBreaker({
      threshold: failureRate,
      size: window,
      minimumNumberOfCalls: Math.min(minCalls, window),
    });
  }

  get state(): BreakerState {
    return this.current;
  }

  onTransition(listener: (t: BreakerTransition) => void): void {
    this.listeners.push(listener);
  }

  private move(next: BreakerState): void {
    const from = this.current.kind;
    this.current = next;
    if (from !== next.kind) {
      const transition = { from, to: next.kind, at: this.clock.now() };
      for (const listener of this.listeners) listener(transition);
    }
  }

  /** May a call start now? An open breaker past its cool-down admits exactly one probe. */
  tryAcquire(): boolean {
    const state = this.current;
    if (state.kind === 'closed') return true;
    if (state.kind === 'open') {
      if (this.clock.now() < state.retryAt) return false;
      this.move({ kind: 'half-open', probing: true });
      return true;
    }
    if (state.probing) return false;
    state.probing = true;
    return true;
  }

  success(): void {
    if (this.current.kind === 'half-open') {
      this.window = this.newWindow();
      this.move({ kind: 'closed' });
      return;
    }
    this.window.success(CircuitState.Closed);
  }

  failure(): void {
    const state = this.current.kind === 'half-open' ? CircuitState.HalfOpen : CircuitState.Closed;
    if (this.current.kind === 'open') return;
    if (this.window.failure(state)) {
      const now = this.clock.now();
      this.move({ kind: 'open', openedAt: now, retryAt: now + this.options.openMs });
    }
  }

  /** The call ended without a verdict (cancelled): free the probe slot so another call can probe. */
  release(): void {
    if (this.current.kind === 'half-open') this.current.probing = false;
  }
}
