import type { Clock } from '../core/clock.ts';
import type { KeelError } from '../core/errors.ts';

/**
 * An AbortController that aborts itself with a typed reason after `ms`, and when any parent aborts
 * (with the parent's reason). Everything downstream receives `signal`; a timeout aborts the I/O, it
 * does not merely race it.
 */
export class Timebox {
  readonly controller = new AbortController();
  private readonly cancels = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    parents: AbortSignal[] = [],
  ) {
    for (const parent of parents) {
      if (parent.aborted) {
        this.controller.abort(parent.reason);
        break;
      }
      const onAbort = () => this.controller.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.cancels.add(() => parent.removeEventListener('abort', onAbort));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * After `ms`, abort with `reason()`, unless it returns undefined (a watcher that decided to wait
   * longer). Returns a function that disarms this one timer.
   */
  arm(ms: number, reason: () => KeelError | undefined): () => void {
    const cancel = () => {
      clear();
      this.cancels.delete(cancel);
    };
    const clear = this.clock.setTimer(ms, () => {
      this.cancels.delete(cancel);
      const error = reason();
      if (error !== undefined) this.controller.abort(error);
    });
    this.cancels.add(cancel);
    return cancel;
  }

  abort(reason: KeelError): void {
    this.controller.abort(reason);
  }

  /** Disarm every timer and detach from the parents. */
  dispose(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
  }
}
