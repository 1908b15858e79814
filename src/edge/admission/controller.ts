import type { Clock } from '../../core/clock.ts';
import { type EdgeError, overloadedError, type ShedReason } from '../limits/errors.ts';

export type Priority = 'high' | 'normal' | 'low';

export interface AdmissionLimits {
  /** Requests of the route running at once. */
  maxConcurrent: number;
  /** Requests waiting for a slot, all priorities together; 0 sheds as soon as every slot is busy. */
  maxQueue: number;
  /** The longest a request waits for a slot before it is shed. */
  maxQueueWaitMs: number;
}

export interface AdmissionControllerOptions {
  clock: Clock;
  /** Limits per route name. */
  routes?: Record<string, AdmissionLimits>;
  /** Limits for a route not in `routes`; without them such routes are not limited at all. */
  defaults?: AdmissionLimits | undefined;
  /**
   * Shed at arrival when the wait predicted from the measured service time exceeds what the request
   * can wait (default true). Without enough samples, requests are shed when the wait actually runs out.
   */
  predictive?: boolean;
  /** Completed requests measured before predictions are used (default 10). */
  minSamples?: number;
}

export interface AcquireInput {
  route: string;
  priority: Priority;
  /** Epoch ms after which the request is useless (the route's end-to-end deadline). */
  deadlineAt: number;
  /** Aborting removes the request from the queue; acquire then rejects with `signal.reason`. */
  signal: AbortSignal;
}

export interface RouteAdmissionStats {
  inFlight: number;
  queued: Record<Priority, number>;
  /** Highest total queue length seen. */
  peakQueued: number;
  admitted: number;
  shed: Record<ShedReason, number>;
  /** Callers that gave up (aborted) while queued. */
  aborted: number;
  /** Moving average of how long a slot is held, once measured. */
  avgServiceMs: number | undefined;
}

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const RANK: Record<Priority, number> = { high: 2, normal: 1, low: 0 };
const EWMA_ALPHA = 0.1;
const MAX_RETRY_AFTER_MS = 60_000;

interface Waiter {
  priority: Priority;
  signal: AbortSignal;
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
  cancelTimer: () => void;
  onAbort: () => void;
}

/**
 * Concurrency limits with a bounded priority queue, per route. Higher priority is served first and
 * FIFO within a priority. A request that cannot be served in time is shed at once with a 429
 * (KEEL_OVERLOADED once that code exists) carrying retryAfterMs; nothing waits unboundedly: every
 * queued request holds a timer for min(maxQueueWaitMs, its deadline).
 */
export class AdmissionController {
  private readonly clock: Clock;
  private readonly routeLimits: Map<string, AdmissionLimits>;
  private readonly defaults: AdmissionLimits | undefined;
  private readonly predictive: boolean;
  private readonly minSamples: number;
  private readonly gates = new Map<string, Gate>();

  constructor(options: AdmissionControllerOptions) {
    this.clock = options.clock;
    this.routeLimits = new Map(Object.entries(options.routes ?? {}));
    this.defaults = options.defaults;
    this.predictive = options.predictive ?? true;
    this.minSamples = Math.max(1, options.minSamples ?? 10);
  }

  /**
   * Waits for a slot on the route. Resolves with the function that gives the slot back (call it
   * exactly once, when the request is finished; further calls do nothing). Rejects with an EdgeError
   * (429, `shed` says why) when shed, or with `signal.reason` when aborted.
   */
  acquire(input: AcquireInput): Promise<() => void> {
    const gate = this.gateFor(input.route);
    if (gate === undefined) {
      if (input.signal.aborted) return Promise.reject(input.signal.reason);
      return Promise.resolve(noop);
    }
    return gate.acquire(input);
  }

  /** Changes a route's limits (config reload). Queued requests stay; raised concurrency is used at once. */
  setLimits(route: string, limits: AdmissionLimits | undefined): void {
    if (limits === undefined) this.routeLimits.delete(route);
    else this.routeLimits.set(route, limits);
    const gate = this.gates.get(route);
    const next = limits ?? this.defaults;
    if (gate !== undefined && next !== undefined) gate.setLimits(next);
  }

  stats(): Record<string, RouteAdmissionStats> {
    const out: Record<string, RouteAdmissionStats> = {};
    for (const [route, gate] of this.gates) out[route] = gate.stats();
    return out;
  }

  private gateFor(route: string): Gate | undefined {
    const existing = this.gates.get(route);
    if (existing !== undefined) return existing;
    const limits = this.routeLimits.get(route) ?? this.defaults;
    if (limits === undefined) return undefined;
    const gate = new Gate(route, limits, this.clock, this.predictive, this.minSamples);
    this.gates.set(route, gate);
    return gate;
  }
}

function noop(): void {}

class Gate {
  private limits: AdmissionLimits;
  private inFlight = 0;
  private readonly queues: Record<Priority, Waiter[]> = { high: [], normal: [], low: [] };
  private queued = 0;
  private peakQueued = 0;
  private admitted = 0;
  private aborted = 0;
  private readonly shedCounts: Record<ShedReason, number> = {
    queue_full: 0,
    displaced: 0,
    queue_timeout: 0,
    deadline: 0,
    predicted_wait: 0,
  };
  private avgHoldMs: number | undefined;
  private samples = 0;

  constructor(
    private readonly route: string,
    limits: AdmissionLimits,
    private readonly clock: Clock,
    private readonly predictive: boolean,
    private readonly minSamples: number,
  ) {
    this.limits = normalise(limits);
  }

  setLimits(limits: AdmissionLimits): void {
    this.limits = normalise(limits);
    this.dispatch();
  }

  acquire(input: AcquireInput): Promise<() => void> {
    const { signal, priority } = input;
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.inFlight < this.limits.maxConcurrent && this.queued === 0) {
      return Promise.resolve(this.grant());
    }

    const full = this.queued >= this.limits.maxQueue;
    const victim = full ? this.newestBelow(priority) : undefined;
    if (full && victim === undefined) return this.refuse('queue_full');

    const now = this.clock.now();
    const untilDeadline = input.deadlineAt - now;
    const deadlineBound = untilDeadline < this.limits.maxQueueWaitMs;
    const canWaitMs = Math.min(this.limits.maxQueueWaitMs, untilDeadline);
    if (canWaitMs <= 0) return this.refuse(deadlineBound ? 'deadline' : 'queue_timeout');

    const predicted = this.predictWait(priority);
    if (predicted !== undefined && predicted > canWaitMs) return this.refuse('predicted_wait', predicted);

    if (victim !== undefined) {
      this.remove(victim);
      victim.reject(this.error('displaced'));
      this.shedCounts.displaced++;
    }

    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        signal,
        resolve,
        reject,
        cancelTimer: noop,
        onAbort: () => {
          if (!this.remove(waiter)) return;
          this.aborted++;
          reject(signal.reason);
        },
      };
      waiter.cancelTimer = this.clock.setTimer(canWaitMs, () => {
        if (!this.remove(waiter)) return;
        const reason: ShedReason = deadlineBound ? 'deadline' : 'queue_timeout';
        this.shedCounts[reason]++;
        reject(this.error(reason));
      });
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queues[priority].push(waiter);
      this.queued++;
      this.peakQueued = Math.max(this.peakQueued, this.queued);
    });
  }

  stats(): RouteAdmissionStats {
    return {
      inFlight: this.inFlight,
      queued: {
        high: this.queues.high.length,
        normal: this.queues.normal.length,
        low: this.queues.low.length,
      },
      peakQueued: this.peakQueued,
      admitted: this.admitted,
      shed: { ...this.shedCounts },
      aborted: this.aborted,
      avgServiceMs: this.avgHoldMs,
    };
  }

  private grant(): () => void {
    this.inFlight++;
    this.admitted++;
    const grantedAt = this.clock.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.observe(this.clock.now() - grantedAt);
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.inFlight < this.limits.maxConcurrent && this.queued > 0) {
      const next = this.queues.high[0] ?? this.queues.normal[0] ?? this.queues.low[0];
      if (next === undefined) break;
      this.remove(next);
      next.resolve(this.grant());
    }
  }

  /** Takes a waiter out of its queue and detaches its timer and listener; false if it was not queued. */
  private remove(waiter: Waiter): boolean {
    const queue = this.queues[waiter.priority];
    const index = queue.indexOf(waiter);
    if (index < 0) return false;
    queue.splice(index, 1);
    this.queued--;
    waiter.cancelTimer();
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    return true;
  }

  /** The most recently queued request of a lower priority than `priority`, lowest priority first. */
  private newestBelow(priority: Priority): Waiter | undefined {
    for (const p of ['low', 'normal'] as const) {
      if (RANK[p] >= RANK[priority]) continue;
      const queue = this.queues[p];
      const newest = queue[queue.length - 1];
      if (newest !== undefined) return newest;
    }
    return undefined;
  }

  private observe(holdMs: number): void {
    const sample = Math.max(0, holdMs);
    this.avgHoldMs =
      this.avgHoldMs === undefined ? sample : this.avgHoldMs + EWMA_ALPHA * (sample - this.avgHoldMs);
    this.samples++;
  }

  /** Service rate in slots per ms, once there are enough samples. */
  private serviceMsPerSlot(): number | undefined {
    if (this.samples < this.minSamples || this.avgHoldMs === undefined) return undefined;
    return this.avgHoldMs / this.limits.maxConcurrent;
  }

  /** Expected wait of a new request: everyone queued at its priority or above goes first. */
  private predictWait(priority: Priority): number | undefined {
    if (!this.predictive) return undefined;
    const perSlot = this.serviceMsPerSlot();
    if (perSlot === undefined) return undefined;
    let ahead = 0;
    for (const p of PRIORITIES) if (RANK[p] >= RANK[priority]) ahead += this.queues[p].length;
    return (ahead + 1) * perSlot;
  }

  private refuse(reason: ShedReason, predictedWaitMs?: number): Promise<never> {
    this.shedCounts[reason]++;
    return Promise.reject(this.error(reason, predictedWaitMs));
  }

  /** How long until the queue has drained enough to take a new request, as far as we can tell. */
  private retryAfterMs(): number {
    const perSlot = this.serviceMsPerSlot();
    const estimate = perSlot === undefined ? this.limits.maxQueueWaitMs : (this.queued + 1) * perSlot;
    return Math.min(MAX_RETRY_AFTER_MS, Math.max(1, Math.ceil(estimate)));
  }

  private error(reason: ShedReason, predictedWaitMs?: number): EdgeError {
    const retryAfterMs = this.retryAfterMs();
    const state = `${this.inFlight} in flight, ${this.queued} queued`;
    const why: Record<ShedReason, string> = {
      queue_full: `the queue is full (${this.limits.maxQueue})`,
      displaced: 'a higher-priority request took its place in the full queue',
      queue_timeout: `it waited ${this.limits.maxQueueWaitMs}ms for a slot`,
      deadline: 'its deadline would pass before a slot frees',
      predicted_wait: `the expected wait (~${Math.ceil(predictedWaitMs ?? 0)}ms) exceeds what it can wait`,
    };
    return overloadedError(
      `Route '${this.route}' is overloaded (${state}); request shed because ${why[reason]}. ` +
        `Retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))}s.`,
      { route: this.route, reason },
      retryAfterMs,
    );
  }
}

function normalise(limits: AdmissionLimits): AdmissionLimits {
  return {
    maxConcurrent: Math.max(1, Math.floor(limits.maxConcurrent)),
    maxQueue: Math.max(0, Math.floor(limits.maxQueue)),
    maxQueueWaitMs: Math.max(0, limits.maxQueueWaitMs),
  };
}
