import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, Pool, errors as undiciErrors, util as undiciUtil } from 'undici';

const { parseHeaders } = undiciUtil;

import { KeelError } from '../core/errors.ts';
import type { AbortScope } from './provider.ts';

/** What a buffered call can be cancelled by: a platform signal, or a subscription (cheaper). */
export type AbortSource = AbortSignal | AbortScope;

/** Subscribe to an abort source; returns the unsubscribe function. */
function onAbortOf(source: AbortSource, fn: () => void): () => void {
  if ('onAbort' in source) return source.onAbort(fn);
  source.addEventListener('abort', fn, { once: true });
  return () => source.removeEventListener('abort', fn);
}

/**
 * One keep-alive connection pool per provider. A provider talks to one origin (its base URL), so a
 * Pool serves it directly: no Agent in front looking the pool up by origin on every request.
 */
export function createPool(baseUrl: string, maxConnections: number): Pool {
  return new Pool(new URL(baseUrl).origin, {
    connections: maxConnections,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1,
    // Timeouts are Keel's (deadline, attempt, first token, stall), carried by the AbortSignal.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

const targets = new Map<string, { origin: string; path: string }>();

/** Split a URL once: upstream URLs come from config, so the cache stays as small as the config. */
function target(url: string): { origin: string; path: string } {
  let hit = targets.get(url);
  if (hit === undefined) {
    const parsed = new URL(url);
    hit = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (targets.size < 1000) targets.set(url, hit);
  }
  return hit;
}

/** Retry-After as milliseconds: `retry-after-ms`, delta-seconds, or an HTTP date. */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now = Date.now()) {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classify an upstream HTTP status: the one place a status becomes a Keel error code. */
export function statusError(status: number, detail: string, retryAfterMs?: number): KeelError {
  const message = `upstream answered ${status}${detail ? `: ${detail}` : ''}`;
  const options =
    retryAfterMs === undefined ? { upstreamStatus: status } : { upstreamStatus: status, retryAfterMs };
  if (status === 429) return new KeelError('KEEL_UPSTREAM_RATE_LIMITED', message, options);
  if (status === 401 || status === 403) return new KeelError('KEEL_UPSTREAM_AUTH', message, options);
  if (status === 408 || status === 409 || status >= 500)
    return new KeelError('KEEL_UPSTREAM_ERROR', message, options);
  return new KeelError('KEEL_UPSTREAM_BAD_REQUEST', message, options);
}

/** Pull a readable message out of an upstream error body, without echoing anything large. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & { text(): Promise<string>; json(): Promise<unknown> };
}

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  dispatcher: Dispatcher;
}

/**
 * A buffered call (postJsonRead) may be cancelled by a scope instead of a platform signal. Its
 * headers are sent as given (include content-type): providers build them once, not per call.
 */
export interface ReadOptions extends Omit<PostOptions, 'signal'> {
  signal: AbortSource;
}

/** The headers of a buffered JSON call: content-type and accept JSON, plus the provider's own. */
export function jsonHeaders(headers: Record<string, string>): Record<string, string> {
  return { 'content-type': 'application/json', ...headers, accept: 'application/json' };
}

/**
 * POST JSON upstream. Non-2xx answers become classified KeelErrors; network failures become
 * KEEL_UPSTREAM_NETWORK; an abort rethrows the signal's reason (the deadline or timeout that fired).
 */
export async function postJson(options: PostOptions): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  try {
    const { origin, path } = target(options.url);
    const raw = await options.dispatcher.request({
      origin,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: options.body,
      signal: options.signal,
    });
    response = { status: raw.statusCode, headers: raw.headers, body: raw.body };
  } catch (err) {
    throw networkError(err, options.signal);
  }
  if (response.status >= 200 && response.status < 300) return response;
  let text = '';
  try {
    text = await response.body.text();
  } catch {
    // the body is only for the message
  }
  throw statusError(response.status, errorDetail(text), parseRetryAfter(response.headers));
}

/** An upstream answer larger than this is refused rather than buffered: memory stays bounded. */
export const MAX_UPSTREAM_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Collects one whole response through undici's dispatch API: no Readable stream, no body mixin, one
 * abort listener. It speaks undici's original handler protocol (onConnect / onHeaders / onData /
 * onComplete / onError), which the pool calls directly; the newer controller protocol is adapted to
 * it by a wrapper that also parses every response header into an object on every request. Headers
 * are only read here when the answer is an error (for Retry-After). undici 7 marks the original
 * protocol deprecated; revisit when moving past undici 7 (pinned for Node 20).
 */
class BufferedResponse implements Dispatcher.DispatchHandler {
  status = 0;
  private rawHeaders: Buffer[] | string[] | null = null;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private abort: ((err?: Error) => void) | undefined;
  private detach: (() => void) | undefined;

  constructor(
    private readonly signal: AbortSource,
    private readonly resolve: (value: { status: number; headers: IncomingHttpHeaders; text: string }) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    const { signal } = this;
    if (signal.aborted) {
      abort(signal.reason as Error);
      return;
    }
    if (this.detach) return; // a retried connect: already listening
    this.detach = onAbortOf(signal, () => this.abort?.(signal.reason as Error));
  }

  onHeaders(status: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.status = status;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > MAX_UPSTREAM_BODY_BYTES) {
      this.abort?.(
        new KeelError('KEEL_UPSTREAM_MALFORMED', `upstream body exceeds ${MAX_UPSTREAM_BODY_BYTES} bytes`),
      );
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.detach?.();
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const ok = this.status >= 200 && this.status < 300;
    const headers = ok || !this.rawHeaders ? {} : (parseHeaders(this.rawHeaders) as IncomingHttpHeaders);
    this.resolve({ status: this.status, headers, text: body.toString('utf8') });
  }

  onError(error: Error): void {
    this.detach?.();
    this.reject(error);
  }
}

/**
 * POST JSON upstream and read the whole answer as JSON: the request/response counterpart of postJson.
 * The same classification: non-2xx → a classified KeelError, a network failure → KEEL_UPSTREAM_NETWORK,
 * an abort → the signal's reason, an unparseable body → KEEL_UPSTREAM_MALFORMED.
 */
export async function postJsonRead(options: ReadOptions): Promise<unknown> {
  const { origin, path } = target(options.url);
  let response: { status: number; headers: IncomingHttpHeaders; text: string };
  try {
    response = await new Promise((resolve, reject) => {
      options.dispatcher.dispatch(
        {
          origin,
          path,
          method: 'POST',
          headers: options.headers,
          body: options.body,
        },
        new BufferedResponse(options.signal, resolve, reject),
      );
    });
  } catch (err) {
    throw networkError(err, options.signal);
  }
  const { status, headers, text } = response;
  if (status < 200 || status >= 300) throw statusError(status, errorDetail(text), parseRetryAfter(headers));
  try {
    return JSON.parse(text);
  } catch {
    throw new KeelError('KEEL_UPSTREAM_MALFORMED', `upstream body is not JSON (${text.length} bytes)`);
  }
}

/** Map a thrown I/O error; when our own signal aborted, its reason wins. */
export function networkError(err: unknown, signal: AbortSource): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof KeelError) return err;
  const code = (err as { code?: string }).code ?? '';
  const text =
    err instanceof undiciErrors.UndiciError || code ? `${code} ${(err as Error).message}` : String(err);
  return new KeelError('KEEL_UPSTREAM_NETWORK', `connection to upstream failed: ${text.trim()}`, {
    cause: err,
  });
}

/**
 * Map an error thrown while reading a stream that had started: the upstream went away mid-answer, so
 * the answer is incomplete (KEEL_STREAM_CUT), unless our own signal aborted it.
 */
export function streamError(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof KeelError) return err;
  return new KeelError(
    'KEEL_STREAM_CUT',
    `upstream stream broke off: the answer is incomplete (${(err as Error).message})`,
    {
      cause: err,
    },
  );
}
