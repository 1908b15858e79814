import type { Clock } from '../core/clock.ts';
import { asKeelError, KeelError } from '../core/errors.ts';
import { fullJitterDelay } from '../resilience/backoff.ts';
import { Timebox } from '../resilience/deadline.ts';
import type { AttemptReason, AttemptRecord, Target } from './target.ts';

export interface ChainOptions<T> {
  /** Targets in the order this request tries them. */
  targets: Target[];
  /** Start one attempt; must settle `record` and the target's breaker itself. */
  attempt: (target: Target, record: AttemptRecord, box: Timebox) => Promise<T>;
  /** The request's deadline scope (a child of the client's): every attempt's box hangs off it. */
  scope: Timebox;
  deadlineAt: number;
  retryBudget: number;
  /** Latency threshold: start the next target if the current one has no first token by then. */
  hedgeAfterMs?: number | undefined;
  clock: Clock;
  random?: () => number;
  /** Where attempts are recorded; the caller's array, so they survive a failed request for its trace. */
  attempts?: AttemptRecord[];
  /** Targets switched off by a kill switch are skipped like open breakers. */
  disabled?: (target: string) => boolean;
  /** Names a fault injected on the target (chaos), recorded on the attempt. */
  chaos?: (target: string) => string | undefined;
}

export interface ChainResult<T> {
  value: T;
  winner: AttemptRecord;
  attempts: AttemptRecord[];
}

interface Flight<T> {
  target: Target;
  record: AttemptRecord;
  box: Timebox;
  settled: Promise<
    { flight: Flight<T>; ok: true; value: T } | { flight: Flight<T>; ok: false; error: KeelError }
  >;
  hedged: boolean;
}

/**
 * Runs one request along a route's target chain: retry a target on a retryable failure (full-jitter
 * backoff, Retry-After honoured when it fits the deadline, a per-request retry budget), skip targets
 * whose breaker is open, fall back to the next target, and hedge: when an attempt has no first token
 * within `hedgeAfterMs`, start the next target too and keep whichever answers first, cancelling the other.
 */
export class Chain<T> {
  private readonly attempts: AttemptRecord[];
  private readonly flights = new Set<Flight<T>>();
  /** Retries per target, made on the first retry (most requests never retry). */
  private retriesUsed: Map<Target, number> | undefined;
  private readonly random: () => number;
  private next = 0;
  private budget: number;

  constructor(private readonly options: ChainOptions<T>) {
    this.budget = options.retryBudget;
    this.attempts = options.attempts ?? [];
    this.random = options.random ?? Math.random;
  }

  async run(): Promise<ChainResult<T>> {
    const errors: KeelError[] = [];
    let lastFailure: { target: Target; error: KeelError } | undefined;
    try {
      for (;;) {
        // The first start needs no backoff decision: synchronous, no extra promise per request.
        if (this.flights.size === 0) {
          const started =
            lastFailure === undefined ? this.startFallback('fallback') : await this.startNext(lastFailure);
          if (!started) throw this.exhausted(errors);
        }
        const event = await this.nextEvent();
        if (event === 'hedge') continue;
        this.flights.delete(event.flight);
        if (event.ok) return { value: event.value, winner: event.flight.record, attempts: this.attempts };
        errors.push(event.error);
        if (!event.error.retryable) throw event.error;
        lastFailure = { target: event.flight.target, error: event.error };
      }
    } finally {
      for (const flight of this.flights) flight.box.abort(this.cancellation(flight));
    }
  }

  /**
   * Why a flight still running is cancelled. The one that was hedged had no first token within
   * `hedgeAfterMs`: it is a slow call and counts against its breaker, so a hung target opens its
   * breaker rather than making every request wait out the hedge threshold. Any other is a plain loser.
   */
  private cancellation(flight: Flight<T>): KeelError {
    if (flight.hedged) {
      return new KeelError(
        'KEEL_ATTEMPT_TOO_SLOW',
        `${flight.target.name}: no first token within hedgeAfterMs ${this.options.hedgeAfterMs}; the hedge answered first`,
        { target: flight.target.name },
      );
    }
    return new KeelError('KEEL_ATTEMPT_CANCELLED', 'another attempt answered first');
  }

  /** Wait for any attempt to settle, or for the hedge threshold of the lone attempt in flight. */
  private nextEvent(): Promise<Awaited<Flight<T>['settled']> | 'hedge'> {
    const { hedgeAfterMs, clock } = this.options;
    if (this.flights.size === 1 && hedgeAfterMs === undefined) {
      for (const flight of this.flights) return flight.settled;
    }
    const racers: Array<Promise<Awaited<Flight<T>['settled']> | 'hedge'>> = [...this.flights].map(
      (f) => f.settled,
    );
    const lone = this.flights.size === 1 ? [...this.flights][0] : undefined;
    let disarm = () => {};
    if (hedgeAfterMs !== undefined && lone && !lone.hedged && this.next < this.options.targets.length) {
      const wait = Math.max(0, lone.record.startedAt + hedgeAfterMs - clock.now());
      racers.push(
        new Promise((resolve) => {
          disarm = clock.setTimer(wait, () => {
            lone.hedged = true;
            this.startFallback('hedge');
            resolve('hedge');
          });
        }),
      );
    }
    return Promise.race(racers).finally(disarm);
  }

  private launch(target: Target, reason: AttemptReason, retry: number): void {
    const record: AttemptRecord = {
      target: target.name,
      provider: target.providerName,
      reason,
      retry,
      outcome: 'pending',
      startedAt: this.options.clock.now(),
    };
    const fault = this.options.chaos?.(target.name);
    if (fault !== undefined) record.chaos = fault;
    this.attempts.push(record);
    // One abort scope per attempt, child of the request's deadline: cancelling it cancels the attempt.
    const box = new Timebox(this.options.clock, [this.options.scope]);
    const flight: Flight<T> = {
      target,
      record,
      box,
      hedged: false,
      settled: this.options.attempt(target, record, box).then(
        (value) => ({ flight, ok: true as const, value }),
        (err: unknown) => ({ flight, ok: false as const, error: asKeelError(err, target.name) }),
      ),
    };
    this.flights.add(flight);
  }

  private skip(target: Target, reason: AttemptReason, why: 'breaker-open' | 'killed' = 'breaker-open'): void {
    const now = this.options.clock.now();
    this.attempts.push({
      target: target.name,
      provider: target.providerName,
      reason,
      retry: 0,
      outcome: 'skipped',
      skipped: why,
      startedAt: now,
      endedAt: now,
    });
  }

  /** Start the next untried target whose breaker admits a call. */
  private startFallback(reason: AttemptReason): boolean {
    const { targets } = this.options;
    while (this.next < targets.length) {
      const target = targets[this.next++]!;
      const why: AttemptReason = this.attempts.length === 0 ? 'primary' : reason;
      if (this.options.disabled?.(target.name)) {
        this.skip(target, why, 'killed');
        continue;
      }
      if (!target.breaker.tryAcquire()) {
        this.skip(target, why);
        continue;
      }
      this.launch(target, why, 0);
      return true;
    }
    return false;
  }

  /** After a retryable failure: retry the same target if it may, else fall back. */
  private async startNext(last: { target: Target; error: KeelError }): Promise<boolean> {
    const { clock, scope, deadlineAt } = this.options;
    const { target, error } = last;
    const used = this.retriesUsed?.get(target) ?? 0;
    // A target that timed out is hung or browned out: retrying it would spend another whole
    // timeout. Go to the next target while one remains; retry only when it is the last hope.
    const slow = error.code === 'KEEL_PROVIDER_TIMEOUT' || error.code === 'KEEL_STREAM_STALLED';
    const another = this.next < this.options.targets.length;
    if (used < target.settings.retry.max && this.budget > 0 && !(slow && another)) {
      const backoff = fullJitterDelay(used, target.settings.retry, this.random);
      const delay = Math.max(backoff, error.retryAfterMs ?? 0);
      // A Retry-After that does not fit in what is left of the deadline is better spent falling back.
      if (clock.now() + delay < deadlineAt) {
        if (delay > 0) await clock.sleep(delay, scope.signal);
        if (target.breaker.tryAcquire()) {
          this.budget--;
          this.retriesUsed ??= new Map();
          this.retriesUsed.set(target, used + 1);
          this.launch(target, 'retry', used + 1);
          return true;
        }
        this.skip(target, 'retry');
      }
    }
    return this.startFallback('fallback');
  }

  private exhausted(errors: KeelError[]): KeelError {
    const tried = this.attempts.map((a) =>
      a.outcome === 'skipped'
        ? `${a.target}: skipped (${a.skipped === 'killed' ? 'kill switch' : 'breaker open'})`
        : `${a.target}: ${a.errorCode} (${a.errorMessage})`,
    );
    const summary = tried.length > 0 ? tried.join('; ') : 'no targets';
    const allRateLimited = errors.length > 0 && errors.every((e) => e.code === 'KEEL_UPSTREAM_RATE_LIMITED');
    if (allRateLimited) {
      const retryAfterMs = Math.min(...errors.map((e) => e.retryAfterMs ?? 1000));
      return new KeelError('KEEL_UPSTREAM_RATE_LIMITED', `every target is rate-limited: ${summary}`, {
        retryAfterMs,
      });
    }
    return new KeelError('KEEL_ALL_TARGETS_FAILED', `every target failed: ${summary}`);
  }
}
