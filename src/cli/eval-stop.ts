/**
 * When `keel eval run` stops starting pairs: after `--max-pairs` finished in this session, or on Ctrl-C.
 * Either way the pairs in flight finish and are recorded, so the run resumes cleanly; a second Ctrl-C
 * quits at once (the handler is registered once, so Node's default takes over).
 */
import type { Printer } from './eval-verdict.ts';

export interface Stopper {
  /** Aborted when no new pair should start (the runner's `signal`). */
  signal: AbortSignal;
  /** True when Ctrl-C stopped the run. */
  interrupted: boolean;
  /** Count one finished pair. */
  finished(): void;
  dispose(): void;
}

export function stopper(io: Printer, maxPairs: number | undefined): Stopper {
  const controller = new AbortController();
  let count = 0;
  const onSigint = () => {
    state.interrupted = true;
    io.err('\nstopping: finishing the pairs in flight (Ctrl-C again to quit now)\n');
    controller.abort(new Error('interrupted'));
  };
  const state: Stopper = {
    signal: controller.signal,
    interrupted: false,
    finished() {
      count++;
      if (maxPairs !== undefined && count >= maxPairs) controller.abort(new Error('--max-pairs reached'));
    },
    dispose() {
      process.off('SIGINT', onSigint);
    },
  };
  process.once('SIGINT', onSigint);
  return state;
}
