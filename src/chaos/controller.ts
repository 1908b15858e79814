import type { Clock } from '../core/clock.ts';
import { describeFault, EMPTY_FAULT, type Fault, hasEffect } from './faults.ts';

/** One active fault, as `list()` shows it. */
export interface ActiveFault {
  target: string;
  fault: Fault;
  description: string;
  since: number;
  until?: number;
  /** Calls that met this fault. */
  calls: number;
  /** Calls it actually failed, hung or slowed. */
  applied: number;
}

export interface ChaosEvent {
  type: 'inject' | 'clear' | 'expire';
  target: string;
  description: string;
  at: number;
  until?: number;
  /** Who did it: the admin actor, or "system:chaos" for an expiry. */
  who: string;
  reason?: string;
}

/** Who injects or clears, and why: carried into the events for the audit log. */
export interface ChaosActor {
  who?: string;
  reason?: string;
}

export interface ChaosControllerOptions {
  clock?: Clock;
  /** Draws for errorRate/hangRate; default Math.random. */
  random?: () => number;
}

/** A clock whose timers never keep the process alive: an expiring fault must not hold a CLI open. */
const unrefClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface Entry extends ActiveFault {
  cancelExpiry: () => void;
}

/**
 * The active chaos faults, one per target (a Keel model name). Wrapped providers ask `active(target)`
 * on every call — a single map lookup when nothing is injected.
 */
export class ChaosController {
  readonly clock: Clock;
  readonly random: () => number;
  private readonly faults = new Map<string, Entry>();
  private readonly listeners = new Set<(event: ChaosEvent) => void>();

  constructor(options: ChaosControllerOptions = {}) {
    this.clock = options.clock ?? unrefClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * Inject `fault` on `target`, replacing any fault already there. It lasts `durationMs` (or until
   * `fault.until`, or until cleared).
   */
  inject(target: string, fault: Fault, durationMs?: number, by: ChaosActor = {}): ActiveFault {
    if (!hasEffect(fault)) throw new Error(EMPTY_FAULT);
    const now = this.clock.now();
    const until = durationMs !== undefined ? now + durationMs : fault.until;
    if (until !== undefined && until <= now) throw new Error('the fault would end before it starts');
    this.drop(target);
    const description = describeFault(fault);
    const entry: Entry = {
      target,
      fault: { ...fault, ...(until !== undefined ? { until } : {}) },
      description,
      since: now,
      ...(until !== undefined ? { until } : {}),
      calls: 0,
      applied: 0,
      cancelExpiry: () => {},
    };
    if (until !== undefined) entry.cancelExpiry = this.clock.setTimer(until - now, () => this.expire(entry));
    this.faults.set(target, entry);
    this.emit({
      type: 'inject',
      target,
      description,
      at: now,
      ...(until !== undefined ? { until } : {}),
      ...actor(by),
    });
    return view(entry);
  }

  /** Clear one target's fault, or all of them; returns how many were cleared. */
  clear(target?: string, by: ChaosActor = {}): number {
    const targets = target === undefined ? [...this.faults.keys()] : [target];
    let cleared = 0;
    for (const t of targets) {
      const entry = this.drop(t);
      if (!entry) continue;
      cleared++;
      this.emit({
        type: 'clear',
        target: t,
        description: entry.description,
        at: this.clock.now(),
        ...actor(by),
      });
    }
    return cleared;
  }

  list(): ActiveFault[] {
    const now = this.clock.now();
    for (const entry of [...this.faults.values()]) {
      if (entry.until !== undefined && now >= entry.until) this.expire(entry);
    }
    return [...this.faults.values()].map(view);
  }

  /** The hot path: the fault active on `target` now, if any. */
  active(target: string): ActiveFault | undefined {
    const entry = this.faults.get(target);
    if (entry === undefined) return undefined;
    if (entry.until !== undefined && this.clock.now() >= entry.until) {
      this.expire(entry);
      return undefined;
    }
    return entry;
  }

  /** What the active fault on `target` does ("error 503 p=0.3"), for a trace span; undefined when none. */
  affected(target: string): string | undefined {
    return this.active(target)?.description;
  }

  /** Listen to inject/clear/expire (audit log). Returns the unsubscribe function. */
  onChange(listener: (event: ChaosEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Clear everything without events and stop expiry timers. */
  close(): void {
    for (const target of [...this.faults.keys()]) this.drop(target);
    this.listeners.clear();
  }

  private drop(target: string): Entry | undefined {
    const entry = this.faults.get(target);
    if (!entry) return undefined;
    entry.cancelExpiry();
    this.faults.delete(target);
    return entry;
  }

  private expire(entry: Entry): void {
    if (this.faults.get(entry.target) !== entry) return;
    this.drop(entry.target);
    this.emit({
      type: 'expire',
      target: entry.target,
      description: entry.description,
      at: this.clock.now(),
      who: 'system:chaos',
    });
  }

  private emit(event: ChaosEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a broken audit listener must not break injection
      }
    }
  }
}

function actor(by: ChaosActor): { who: string; reason?: string } {
  return { who: by.who ?? 'admin', ...(by.reason !== undefined ? { reason: by.reason } : {}) };
}

function view(entry: Entry): ActiveFault {
  const { cancelExpiry: _, ...rest } = entry;
  return { ...rest, fault: { ...rest.fault } };
}
