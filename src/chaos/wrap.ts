import type { Clock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/types.ts';
import { statusError } from '../providers/http.ts';
import type { CallOptions, Provider } from '../providers/provider.ts';
import type { ActiveFault, ChaosController } from './controller.ts';
import { failureKind } from './faults.ts';

const closings = new WeakMap<Provider, Promise<void>>();

function hang(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * A Provider that applies the target's active chaos fault to each call. With no fault active a call
 * costs one map lookup and goes straight to the wrapped provider (streams are not re-wrapped).
 *
 * Failures are thrown exactly as the real thing would be: `statusError(...)` for statuses and 429s (so
 * retry, breaker and fallback classify them like an upstream's), KEEL_UPSTREAM_MALFORMED for garbage,
 * KEEL_STREAM_CUT for a cut stream; a hang or stall ends only when the attempt's signal aborts, with
 * the signal's reason (the timeout that fired).
 */
export class ChaosProvider implements Provider {
  readonly type: string;
  readonly embeddings?: (request: EmbeddingRequest, options: CallOptions) => Promise<EmbeddingResponse>;
  private readonly clock: Clock;

  constructor(
    readonly inner: Provider,
    readonly target: string,
    readonly controller: ChaosController,
    clock?: Clock,
  ) {
    this.type = inner.type;
    this.clock = clock ?? controller.clock;
    // Only a provider that serves embeddings may look like one: the router picks targets by it.
    if (inner.embeddings) {
      const embed = inner.embeddings.bind(inner);
      this.embeddings = (request, options) => {
        const active = this.controller.active(this.target);
        if (active === undefined) return embed(request, options);
        return this.before(active, options.signal, false).then(() => embed(request, options));
      };
    }
  }

  chat(request: ChatRequest, options: CallOptions): Promise<ChatCompletion> {
    const active = this.controller.active(this.target);
    if (active === undefined) return this.inner.chat(request, options);
    return this.before(active, options.signal, false).then(() => this.inner.chat(request, options));
  }

  stream(request: ChatRequest, options: CallOptions): AsyncIterable<ChatChunk> {
    const active = this.controller.active(this.target);
    if (active === undefined) return this.inner.stream(request, options);
    return this.chaosStream(active, request, options);
  }

  /** Closes the wrapped provider once, however many models' wrappers share it. */
  close(): Promise<void> {
    let closing = closings.get(this.inner);
    if (closing === undefined) {
      closing = this.inner.close?.() ?? Promise.resolve();
      closings.set(this.inner, closing);
    }
    return closing;
  }

  private roll(rate: number | undefined): boolean {
    if (rate === undefined || rate >= 1) return true;
    return rate > 0 && this.controller.random() < rate;
  }

  /**
   * What happens before the upstream is called: latency, hang, then a failure. Returns whether this
   * call drew the failure share (streams use it for cut/stall).
   */
  private async before(active: ActiveFault, signal: AbortSignal, streaming: boolean): Promise<boolean> {
    const { fault } = active;
    active.calls++;
    let applied = false;
    try {
      if ((fault.latencyMs ?? 0) > 0) {
        applied = true;
        await this.clock.sleep(fault.latencyMs!, signal);
      }
      if ((fault.hangRate ?? 0) > 0 && this.roll(fault.hangRate)) {
        applied = true;
        await hang(signal);
      }
      const kind = failureKind(fault);
      const wantsStreamFault = fault.cutStreamAfter !== undefined || fault.stallMs !== undefined;
      if (kind === undefined && !wantsStreamFault) return false;
      if (!this.roll(fault.errorRate)) return false;
      if (kind === 'rate-limit') {
        applied = true;
        throw statusError(429, 'chaos: injected rate limit', fault.retryAfterMs ?? 1000);
      }
      if (kind === 'garbage') {
        applied = true;
        throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'upstream body is not JSON (chaos: injected garbage)');
      }
      if (kind === 'status') {
        applied = true;
        throw statusError(fault.status ?? 503, 'chaos: injected failure', fault.retryAfterMs);
      }
      if (streaming) applied = true;
      return true;
    } finally {
      if (applied) active.applied++;
    }
  }

  private async *chaosStream(
    active: ActiveFault,
    request: ChatRequest,
    options: CallOptions,
  ): AsyncGenerator<ChatChunk> {
    const { fault } = active;
    const drawn = await this.before(active, options.signal, true);
    const cutAfter = drawn ? fault.cutStreamAfter : undefined;
    const stallMs = drawn ? fault.stallMs : undefined;
    if (cutAfter === 0) {
      throw new KeelError(
        'KEEL_STREAM_CUT',
        'upstream stream broke off before any chunk (chaos: injected cut)',
      );
    }
    let sent = 0;
    for await (const chunk of this.inner.stream(request, options)) {
      yield chunk;
      sent++;
      if (cutAfter !== undefined && sent >= cutAfter) {
        throw new KeelError(
          'KEEL_STREAM_CUT',
          `upstream stream broke off after ${sent} chunks: the answer is incomplete (chaos: injected cut)`,
        );
      }
      if (stallMs !== undefined && sent === 1) await this.clock.sleep(stallMs, options.signal);
    }
  }
}

/** Wrap one model's provider. */
export function wrapWithChaos(
  provider: Provider,
  target: string,
  controller: ChaosController,
  clock?: Clock,
): Provider {
  return new ChaosProvider(provider, target, controller, clock);
}

/**
 * Wrap every provider of a `createProviders()` map (keyed by model name) — call it before `new Router`.
 * Models sharing one real provider get one wrapper each (faults are per model), sharing its pool.
 */
export function wrapProviders(
  providers: Map<string, Provider>,
  controller: ChaosController,
  clock?: Clock,
): Map<string, Provider> {
  return new Map(
    [...providers].map(([model, provider]) => [model, wrapWithChaos(provider, model, controller, clock)]),
  );
}
