import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/types.ts';

/**
 * An abort source a provider can subscribe to without a platform AbortController: the router's
 * Timebox is one. A buffered call that uses it instead of `signal` saves an AbortController, an
 * AbortSignal and an EventTarget listener per attempt on the hot path.
 */
export interface AbortScope {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Calls `fn` once on abort (at once if already aborted); the returned function unsubscribes. */
  onAbort(fn: (reason: unknown) => void): () => void;
}

export interface CallOptions {
  /** The upstream model name (the model's `model` in keel.yaml). */
  model: string;
  /**
   * Aborting it cancels the upstream request; the provider must stop all I/O promptly. It may be
   * made on first read (the router's is): a provider that can use `abortScope` should not touch it.
   */
  signal: AbortSignal;
  /** The same abort as `signal`, as a subscription; when present, prefer it for buffered calls. */
  abortScope?: AbortScope | undefined;
}

/** The abort source of a call: its scope when it has one (no AbortController made), else its signal. */
export function abortOf(options: CallOptions): AbortScope | AbortSignal {
  return options.abortScope ?? options.signal;
}

/**
 * One wire protocol. Translation between Keel's OpenAI-shaped vocabulary and the upstream's format
 * lives only in the implementation. Every failure is thrown as a KeelError (see `http.ts` for the
 * shared classification), so the router never looks at provider-specific errors.
 */
export interface Provider {
  readonly type: string;
  chat(request: ChatRequest, options: CallOptions): Promise<ChatCompletion>;
  /**
   * Yields chunks as they arrive. Ends normally only when the upstream sent its terminating event;
   * a stream that stops early throws KEEL_STREAM_CUT, never ends quietly.
   */
  stream(request: ChatRequest, options: CallOptions): AsyncIterable<ChatChunk>;
  embeddings?(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse>;
  close?(): Promise<void>;
}
