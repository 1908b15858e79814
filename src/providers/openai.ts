import type { Pool } from 'undici';
import { KeelError } from '../core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/types.ts';
import { createPool, jsonHeaders, postJson, postJsonRead, streamError } from './http.ts';
import { abortOf, type CallOptions, type Provider } from './provider.ts';
import { parseSse } from './sse.ts';

export interface OpenAIProviderOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  /** "authorization" sends a Bearer token; any other header name (Azure: "api-key") sends the key as is. */
  authHeader?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  maxConnections?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks the parts of a completion Keel relies on; anything else passes through untouched. */
function asCompletion(body: unknown): ChatCompletion {
  if (!isObject(body) || !Array.isArray(body.choices) || body.choices.length === 0) {
    throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'upstream completion has no choices');
  }
  for (const choice of body.choices) {
    if (!isObject(choice) || !isObject(choice.message)) {
      throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'upstream completion choice has no message');
    }
  }
  return body as unknown as ChatCompletion;
}

function asChunk(data: string): ChatChunk {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    throw new KeelError(
      'KEEL_UPSTREAM_MALFORMED',
      `upstream stream event is not JSON (${data.length} bytes)`,
    );
  }
  if (isObject(body) && isObject(body.error)) {
    const message = typeof body.error.message === 'string' ? body.error.message : 'error event';
    throw new KeelError('KEEL_UPSTREAM_ERROR', `upstream stream failed: ${message.slice(0, 300)}`);
  }
  if (!isObject(body) || !Array.isArray(body.choices)) {
    throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'upstream stream chunk has no choices');
  }
  return body as unknown as ChatChunk;
}

/**
 * Any OpenAI-compatible server (OpenAI, Azure-style deployments, vLLM, Ollama, llama.cpp, Together,
 * Groq, OpenRouter): adding one is configuration, not code.
 */
export class OpenAIProvider implements Provider {
  readonly type = 'openai';
  private readonly agent: Pool;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  /** The headers of every buffered call, built once. */
  private readonly readHeaders: Record<string, string>;
  private readonly query: string;

  constructor(options: OpenAIProviderOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.agent = createPool(this.base, options.maxConnections ?? 128);
    this.headers = { ...options.headers };
    if (options.apiKey) {
      const header = (options.authHeader ?? 'authorization').toLowerCase();
      this.headers[header] = header === 'authorization' ? `Bearer ${options.apiKey}` : options.apiKey;
    }
    const query = new URLSearchParams(options.query ?? {}).toString();
    this.query = query ? `?${query}` : '';
    this.readHeaders = jsonHeaders(this.headers);
  }

  private post(path: string, body: unknown, signal: AbortSignal, accept: string) {
    return postJson({
      url: `${this.base}${path}${this.query}`,
      headers: { ...this.headers, accept },
      body: JSON.stringify(body),
      signal,
      dispatcher: this.agent,
    });
  }

  chat(request: ChatRequest, options: CallOptions): Promise<ChatCompletion> {
    return postJsonRead({
      url: `${this.base}/chat/completions${this.query}`,
      headers: this.readHeaders,
      body: JSON.stringify({ ...request, model: options.model, stream: false }),
      signal: abortOf(options),
      dispatcher: this.agent,
    }).then(asCompletion);
  }

  async *stream(request: ChatRequest, { model, signal }: CallOptions): AsyncGenerator<ChatChunk> {
    const response = await this.post(
      '/chat/completions',
      { ...request, model, stream: true },
      signal,
      'text/event-stream',
    );
    let done = false;
    try {
      for await (const event of parseSse(response.body)) {
        if (event.data === '[DONE]') {
          done = true;
          break;
        }
        if (event.event === 'error')
          throw new KeelError('KEEL_UPSTREAM_ERROR', `upstream stream failed: ${event.data}`);
        yield asChunk(event.data);
      }
    } catch (err) {
      throw streamError(err, signal);
    } finally {
      // Early exit (client gone, error): drop the connection rather than drain an unwanted answer.
      if (!done) (response.body as unknown as { destroy(): void }).destroy();
    }
    if (!done)
      throw new KeelError('KEEL_STREAM_CUT', 'upstream stream ended before [DONE]: the answer is incomplete');
  }

  async embeddings(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse> {
    const body = await postJsonRead({
      url: `${this.base}/embeddings${this.query}`,
      headers: this.readHeaders,
      body: JSON.stringify({ ...request, model: options.model }),
      signal: abortOf(options),
      dispatcher: this.agent,
    });
    if (!isObject(body) || !Array.isArray(body.data)) {
      throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'upstream embeddings response has no data');
    }
    return body as unknown as EmbeddingResponse;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
