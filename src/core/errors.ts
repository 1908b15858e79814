/**
 * One table of stable error codes. Every failure in Keel is a `KeelError` carrying one of these codes,
 * so retry, breaker, fallback and the HTTP layer all ask the same classifier.
 */

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'service_unavailable';

export interface ErrorSpec {
  /** HTTP status Keel answers with when this error reaches the client. */
  status: number;
  /** Whether another attempt (same or next target) may succeed. */
  retryable: boolean;
  /** Whether it counts against a target's circuit breaker. */
  breaker: boolean;
  type: OpenAIErrorType;
  /** What it means, for the docs (a test checks every code is documented). */
  doc: string;
}

export const ERROR_CODES = {
  KEEL_CONFIG_INVALID: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The configuration is invalid; every problem is listed as `path: problem`.',
  },
  KEEL_INVALID_REQUEST: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The request body or a parameter is invalid; the message names the field.',
  },
  KEEL_INVALID_JSON: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The request body is not valid JSON.',
  },
  KEEL_BODY_TOO_LARGE: {
    status: 413,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The request body is larger than `server.bodyLimitBytes`.',
  },
  KEEL_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The request body is not `application/json`.',
  },
  KEEL_UNKNOWN_ROUTE: {
    status: 404,
    retryable: false,
    breaker: false,
    type: 'not_found_error',
    doc: 'The `model` names no configured route.',
  },
  KEEL_NOT_FOUND: {
    status: 404,
    retryable: false,
    breaker: false,
    type: 'not_found_error',
    doc: 'No such endpoint.',
  },
  KEEL_METHOD_NOT_ALLOWED: {
    status: 405,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The endpoint exists but not for this HTTP method.',
  },
  KEEL_UNAUTHORIZED: {
    status: 401,
    retryable: false,
    breaker: false,
    type: 'authentication_error',
    doc: 'A gateway key is configured and the request did not present a valid one.',
  },
  KEEL_FORBIDDEN: {
    status: 403,
    retryable: false,
    breaker: false,
    type: 'permission_error',
    doc: 'The key is valid but not allowed on this route.',
  },
  KEEL_RATE_LIMITED: {
    status: 429,
    retryable: false,
    breaker: false,
    type: 'rate_limit_error',
    doc: "A key's or route's requests-per-minute or tokens-per-minute limit; the message says which, Retry-After when to come back.",
  },
  KEEL_BUDGET_EXCEEDED: {
    status: 429,
    retryable: false,
    breaker: false,
    type: 'rate_limit_error',
    doc: "The key's spending budget for the day or month would be exceeded by this request's worst-case cost.",
  },
  KEEL_OVERLOADED: {
    status: 429,
    retryable: false,
    breaker: false,
    type: 'rate_limit_error',
    doc: 'Shed by admission control: the route is at its concurrency limit and its queue is full or the wait would pass the deadline.',
  },
  KEEL_SHUTTING_DOWN: {
    status: 503,
    retryable: true,
    breaker: false,
    type: 'service_unavailable',
    doc: 'The gateway is shutting down: requests in flight finish, new ones are refused with the connection closed. Retry on another replica.',
  },
  KEEL_KILLED: {
    status: 503,
    retryable: false,
    breaker: false,
    type: 'service_unavailable',
    doc: 'The route (or feature) is switched off by a kill switch; the message gives the reason.',
  },
  KEEL_UNSUPPORTED: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The route has no target that supports this operation (for example embeddings on a chat-only route).',
  },
  KEEL_UPSTREAM_BAD_REQUEST: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'The upstream rejected the request as invalid (4xx other than 408/409/429); retrying cannot help.',
  },
  KEEL_UPSTREAM_AUTH: {
    status: 502,
    retryable: true,
    breaker: true,
    type: 'api_error',
    doc: "The upstream rejected Keel's provider credentials (401/403): a configuration problem on that target, so the chain falls back.",
  },
  KEEL_UPSTREAM_RATE_LIMITED: {
    status: 429,
    retryable: true,
    breaker: true,
    type: 'rate_limit_error',
    doc: 'The upstream answered 429; Retry-After is honoured when it fits inside the deadline.',
  },
  KEEL_UPSTREAM_ERROR: {
    status: 502,
    retryable: true,
    breaker: true,
    type: 'api_error',
    doc: 'The upstream answered with a 5xx status.',
  },
  KEEL_UPSTREAM_NETWORK: {
    status: 502,
    retryable: true,
    breaker: true,
    type: 'api_error',
    doc: 'The connection to the upstream failed (refused, reset, DNS).',
  },
  KEEL_UPSTREAM_MALFORMED: {
    status: 502,
    retryable: true,
    breaker: true,
    type: 'api_error',
    doc: 'The upstream answered with a body Keel could not parse or that lacks required fields.',
  },
  KEEL_PROVIDER_TIMEOUT: {
    status: 504,
    retryable: true,
    breaker: true,
    type: 'timeout_error',
    doc: "An attempt exceeded its target's `timeoutMs` (total) or `firstTokenTimeoutMs` (time to first token).",
  },
  KEEL_STREAM_STALLED: {
    status: 504,
    retryable: true,
    breaker: true,
    type: 'timeout_error',
    doc: "A stream produced no chunk for the target's `stallTimeoutMs`.",
  },
  KEEL_STREAM_CUT: {
    status: 502,
    retryable: true,
    breaker: true,
    type: 'api_error',
    doc: 'The upstream stream ended without its terminating event: the answer is incomplete.',
  },
  KEEL_DEADLINE_EXCEEDED: {
    status: 504,
    retryable: false,
    breaker: false,
    type: 'timeout_error',
    doc: "The request's end-to-end deadline (`deadlineMs` of the route) passed.",
  },
  KEEL_ALL_TARGETS_FAILED: {
    status: 503,
    retryable: false,
    breaker: false,
    type: 'service_unavailable',
    doc: "Every target of the route failed or was skipped (breaker open); the message lists each target's last error.",
  },
  KEEL_CLIENT_CLOSED: {
    status: 499,
    retryable: false,
    breaker: false,
    type: 'api_error',
    doc: 'The client went away before the answer was complete; upstream work was cancelled.',
  },
  KEEL_ATTEMPT_CANCELLED: {
    status: 499,
    retryable: false,
    breaker: false,
    type: 'api_error',
    doc: 'An attempt Keel cancelled itself (it lost a hedge race); recorded in the trace, never sent to a client.',
  },
  KEEL_ATTEMPT_TOO_SLOW: {
    status: 499,
    retryable: false,
    breaker: true,
    type: 'api_error',
    doc: "An attempt that had no first token within the route's hedgeAfterMs and was cancelled because the hedge answered first. It counts against its target's circuit breaker as a slow call, so a hung target opens its breaker instead of costing every request the hedge delay. Recorded in the trace, never sent to a client.",
  },
  KEEL_FEATURE_NOT_FOUND: {
    status: 404,
    retryable: false,
    breaker: false,
    type: 'not_found_error',
    doc: 'No feature of that name is declared (`features.NAME` in the config).',
  },
  KEEL_GUARD_BLOCKED: {
    status: 400,
    retryable: false,
    breaker: false,
    type: 'invalid_request_error',
    doc: 'An input guard (PII, prompt injection, deny list, topics) refused the request; the message names the guard, never the matched text. A policy guard may answer 403.',
  },
  KEEL_OUTPUT_BLOCKED: {
    status: 502,
    retryable: false,
    breaker: false,
    type: 'api_error',
    doc: "An output guard withheld the model's answer; the trace says which guard and why.",
  },
  KEEL_PROMPT_UNAVAILABLE: {
    status: 503,
    retryable: false,
    breaker: false,
    type: 'service_unavailable',
    doc: "The feature's prompt label points at no version and no version is known to be good.",
  },
  KEEL_FEATURE_FAILED: {
    status: 502,
    retryable: false,
    breaker: false,
    type: 'api_error',
    doc: 'Every attempt, retry and fallback of a feature failed to produce an answer that meets its contract; the message lists the steps.',
  },
  KEEL_INTERNAL: {
    status: 500,
    retryable: false,
    breaker: false,
    type: 'api_error',
    doc: 'A bug in Keel. The message carries the request id, never a stack trace.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface KeelErrorOptions {
  cause?: unknown;
  /** The target (route target name) the failure came from, if any. */
  target?: string;
  /** Upstream HTTP status, when there was one. */
  upstreamStatus?: number;
  /** A Retry-After the upstream asked for, in milliseconds. */
  retryAfterMs?: number;
  /** The field of the request the problem is about (for 4xx). */
  param?: string;
  /** Overrides the code's status where the code allows two (a policy guard's 403). */
  status?: number;
}

export class KeelError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly countsForBreaker: boolean;
  readonly type: OpenAIErrorType;
  readonly target: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, options: KeelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERROR_CODES[code];
    this.name = 'KeelError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.retryable = spec.retryable;
    this.countsForBreaker = spec.breaker;
    this.type = spec.type;
    this.target = options.target;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.param = options.param;
  }
}

/** Narrow anything thrown into a KeelError; unknown throwables become KEEL_INTERNAL. */
export function asKeelError(err: unknown, target?: string): KeelError {
  if (err instanceof KeelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KeelError(
    'KEEL_INTERNAL',
    message,
    target === undefined ? { cause: err } : { cause: err, target },
  );
}

/** The body OpenAI clients expect for an error. */
export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string };
}

export function toOpenAIError(err: KeelError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code } };
}
