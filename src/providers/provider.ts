import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/types.ts';

export interface CallOptions {
  /** The upstream model name (the model's `model` in keel.yaml). */
  model: string;
  /** Aborting it cancels the upstream request; the provider must stop all I/O promptly. */
  signal: AbortSignal;
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
