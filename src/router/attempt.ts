import type { Clock } from '../core/clock.ts';
import { asKeelError, KeelError } from '../core/errors.ts';
import type { ChatChunk, ChatCompletion, ChatRequest, Usage } from '../core/types.ts';
import type { CallOptions } from '../providers/provider.ts';
import type { Timebox } from '../resilience/deadline.ts';
import type { AttemptRecord, Target } from './target.ts';

export interface AttemptContext {
  target: Target;
  record: AttemptRecord;
  request: ChatRequest;
  /**
   * This attempt's own abort scope, made by the chain as a child of the request's deadline: the chain
   * aborts it to cancel a hedge loser, the attempt arms its timeouts on it and disposes it when done.
   */
  box: Timebox;
  clock: Clock;
}

export interface StreamStart {
  first: ChatChunk;
  /** The rest of the stream; settles the breaker and the record when it ends, fails, or is abandoned. */
  rest: AsyncGenerator<ChatChunk>;
}

function timeout(target: Target, what: string): () => KeelError {
  return () => new KeelError('KEEL_PROVIDER_TIMEOUT', `${target.name}: ${what}`, { target: target.name });
}

/** Close the record and tell the breaker: success, failure (if the error counts), or no verdict. */
function settle(ctx: Omit<AttemptContext, 'request'>, error?: KeelError): void {
  const { record, target, clock } = ctx;
  record.endedAt = clock.now();
  record.latencyMs = record.endedAt - record.startedAt;
  if (error === undefined) {
    record.outcome = 'ok';
    target.breaker.success();
    return;
  }
  const cancelled =
    error.code === 'KEEL_ATTEMPT_CANCELLED' ||
    error.code === 'KEEL_ATTEMPT_TOO_SLOW' ||
    error.code === 'KEEL_CLIENT_CLOSED';
  record.outcome = cancelled ? 'cancelled' : 'error';
  record.errorCode = error.code;
  record.errorMessage = error.message;
  if (error.upstreamStatus !== undefined) record.upstreamStatus = error.upstreamStatus;
  if (error.countsForBreaker) target.breaker.failure();
  else target.breaker.release();
}

/** The error an attempt failed with: when our own signal aborted, its reason is the truth. */
function failure(err: unknown, box: Timebox, target: Target): KeelError {
  const reason = box.aborted ? box.reason : err;
  return asKeelError(reason, target.name);
}

/**
 * One request/response attempt (chat, embeddings), bounded by the target's timeout and its box. `describe` pulls what the record keeps from the answer.
 */
export async function oneShotAttempt<T>(
  ctx: Omit<AttemptContext, 'request'>,
  call: (box: Timebox) => Promise<T>,
  describe: (value: T) => { model: string; usage?: Usage | undefined },
): Promise<T> {
  const { target, record, clock, box } = ctx;
  box.arm(
    target.settings.timeoutMs,
    timeout(target, `no answer within timeoutMs ${target.settings.timeoutMs}`),
  );
  try {
    const value = await call(box);
    record.ttftMs = clock.now() - record.startedAt;
    const { model, usage } = describe(value);
    record.upstreamModel = model;
    if (usage) record.usage = usage;
    settle(ctx);
    return value;
  } catch (err) {
    const error = failure(err, box, target);
    settle(ctx, error);
    throw error;
  } finally {
    box.dispose();
  }
}

/**
 * A provider call's options, cancelled by `box`. The platform signal is made only if the provider
 * reads it (streams hand it to undici); buffered calls subscribe to the box itself. A class, so the
 * getter lives on the prototype rather than in a closure per attempt. Never spread these options: a
 * spread reads the getter.
 */
class BoxedCall implements CallOptions {
  constructor(
    readonly model: string,
    readonly abortScope: Timebox,
  ) {}

  get signal(): AbortSignal {
    return this.abortScope.signal;
  }
}

export function callOptions(model: string, box: Timebox): CallOptions {
  return new BoxedCall(model, box);
}

export function chatAttempt(ctx: AttemptContext): Promise<ChatCompletion> {
  return oneShotAttempt(
    ctx,
    (box) => ctx.target.provider.chat(ctx.request, callOptions(ctx.target.upstreamModel, box)),
    (completion) => ({ model: completion.model, usage: completion.usage }),
  );
}

/**
 * One streaming attempt. Resolves at the first chunk (that is when the chain picks a winner); the
 * first-token timeout applies until then, the stall timeout between chunks after it, and the total
 * timeout throughout.
 */
export async function streamAttempt(ctx: AttemptContext): Promise<StreamStart> {
  const { target, record, clock } = ctx;
  const { timeoutMs, firstTokenTimeoutMs, stallTimeoutMs } = target.settings;
  const { box } = ctx;
  box.arm(timeoutMs, timeout(target, `stream not finished within timeoutMs ${timeoutMs}`));
  const disarmFirst =
    firstTokenTimeoutMs === undefined
      ? () => undefined
      : box.arm(
          firstTokenTimeoutMs,
          timeout(target, `no first token within firstTokenTimeoutMs ${firstTokenTimeoutMs}`),
        );

  const iterator = target.provider
    .stream(ctx.request, { model: target.upstreamModel, signal: box.signal })
    [Symbol.asyncIterator]();
  let first: IteratorResult<ChatChunk>;
  try {
    first = await iterator.next();
    if (first.done)
      throw new KeelError('KEEL_UPSTREAM_MALFORMED', `${target.name}: stream ended with no chunk`);
  } catch (err) {
    const error = failure(err, box, target);
    settle(ctx, error);
    box.dispose();
    throw error;
  }
  disarmFirst();
  record.ttftMs = clock.now() - record.startedAt;
  record.upstreamModel = first.value.model;

  // One self-re-arming timer watches for stalls, instead of a new timer per chunk.
  let lastChunkAt = clock.now();
  const watchStall = (wait: number): void => {
    box.arm(wait, () => {
      const idle = clock.now() - lastChunkAt;
      if (idle < stallTimeoutMs) {
        watchStall(stallTimeoutMs - idle);
        return undefined;
      }
      return new KeelError('KEEL_STREAM_STALLED', `${target.name}: no chunk for ${stallTimeoutMs} ms`, {
        target: target.name,
      });
    });
  };

  async function* rest(): AsyncGenerator<ChatChunk> {
    let finished = false;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        lastChunkAt = clock.now();
        if (next.value.usage) record.usage = next.value.usage;
        yield next.value;
      }
      finished = true;
      settle(ctx);
    } catch (err) {
      finished = true;
      const error = failure(err, box, target);
      settle(ctx, error);
      throw error;
    } finally {
      if (!finished) {
        // The consumer left early (client gone): cancel the upstream and record no verdict.
        const gone = new KeelError('KEEL_CLIENT_CLOSED', 'client closed the stream', { target: target.name });
        box.abort(gone);
        settle(ctx, gone);
        await iterator.return?.();
      }
      box.dispose();
    }
  }
  if (first.value.usage) record.usage = first.value.usage;
  watchStall(stallTimeoutMs);
  return { first: first.value, rest: rest() };
}
