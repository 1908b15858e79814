import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { Span, Trace } from './trace.ts';

/**
 * OTLP/HTTP JSON export of traces, shaped by the OpenTelemetry GenAI semantic conventions: one SERVER
 * span per request (`chat {route}`) and one CLIENT span per attempt (`chat {upstream model}`).
 *
 * It is a sink of the trace recorder, so it only ever sees traces that are already redacted; bodies are
 * exported only when `includeBodies` is on.
 */

/** `telemetry.otlp` of keel.yaml (kept structural: telemetry imports only core). */
export interface OtlpOptions {
  /** The OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  endpoint: string;
  headers?: Record<string, string>;
  includeBodies?: boolean;
  /** Per export request. Default 5000. */
  timeoutMs?: number;
  serviceVersion?: string;
}

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean };

export interface OtlpAttribute {
  key: string;
  value: AnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status: { code: number; message?: string };
  events?: OtlpEvent[];
}

/** A span event: online evaluation scores are `gen_ai.evaluation.result` events on the request's span. */
export interface OtlpEvent {
  name: string;
  timeUnixNano: string;
  attributes: OtlpAttribute[];
}

/** One score in the GenAI semantic conventions' evaluation event shape. */
function evaluationEvent(trace: Trace, e: NonNullable<Trace['slots']['evals']>[number]): OtlpEvent {
  const attributes = [str('gen_ai.evaluation.name', e.name)];
  if (e.value !== undefined) attributes.push(dbl('gen_ai.evaluation.score.value', e.value));
  if (e.label !== undefined) attributes.push(str('gen_ai.evaluation.score.label', e.label));
  if (e.explanation !== undefined) attributes.push(str('gen_ai.evaluation.explanation', e.explanation));
  if (e.error !== undefined) attributes.push(str('error.type', 'evaluation_error'));
  return { name: 'gen_ai.evaluation.result', timeUnixNano: unixNano(trace.endedAt), attributes };
}

export interface OtlpTracesRequest {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpSpan[] }>;
  }>;
}

/** opentelemetry.proto.trace.v1.Span.SpanKind */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const;
/** opentelemetry.proto.trace.v1.Status.StatusCode */
export const STATUS_CODE = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export class OtlpExporter {
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly options: OtlpOptions) {
    this.headers = { ...options.headers, 'content-type': 'application/json' };
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** POSTs the traces as one OTLP request; rejects on a network error, a timeout or a non-2xx answer. */
  async export(traces: Trace[]): Promise<void> {
    if (traces.length === 0) return;
    const body = JSON.stringify(
      toOtlp(traces, {
        includeBodies: this.options.includeBodies ?? false,
        ...(this.options.serviceVersion !== undefined && { serviceVersion: this.options.serviceVersion }),
      }),
    );
    const res = await request(this.options.endpoint, {
      method: 'POST',
      headers: this.headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await res.body.text().catch(() => '');
      throw new Error(
        `OTLP export to ${this.options.endpoint} failed: HTTP ${res.statusCode} ${text.slice(0, 200)}`,
      );
    }
    await res.body.dump();
  }
}

/** The OTLP/JSON `ExportTraceServiceRequest` for a batch of traces. */
export function toOtlp(
  traces: Trace[],
  options: { includeBodies: boolean; serviceVersion?: string },
): OtlpTracesRequest {
  const resource: OtlpAttribute[] = [str('service.name', 'keel')];
  if (options.serviceVersion !== undefined) resource.push(str('service.version', options.serviceVersion));
  const spans: OtlpSpan[] = [];
  for (const trace of traces) spans.push(...traceSpans(trace, options.includeBodies));
  return {
    resourceSpans: [
      {
        resource: { attributes: resource },
        scopeSpans: [
          {
            scope: {
              name: 'keel',
              ...(options.serviceVersion !== undefined && { version: options.serviceVersion }),
            },
            spans,
          },
        ],
      },
    ],
  };
}

/** Trace id (32 hex) and the root span id (16 hex), derived from Keel's request id. */
export function otlpIds(traceId: string): { traceId: string; rootSpanId: string } {
  const h = createHash('sha256').update(traceId).digest('hex');
  return { traceId: nonZero(h.slice(0, 32)), rootSpanId: nonZero(h.slice(32, 48)) };
}

/** Span id of the `index`-th attempt of a trace. */
export function attemptSpanId(traceId: string, index: number): string {
  return nonZero(createHash('sha256').update(`${traceId}#${index}`).digest('hex').slice(0, 16));
}

function traceSpans(trace: Trace, includeBodies: boolean): OtlpSpan[] {
  const { traceId, rootSpanId } = otlpIds(trace.id);
  const operation = trace.endpoint === 'embeddings' ? 'embeddings' : 'chat';

  const attributes: OtlpAttribute[] = [
    str('gen_ai.operation.name', operation),
    str('gen_ai.request.model', trace.route),
    int('gen_ai.usage.input_tokens', trace.tokensIn),
    int('gen_ai.usage.output_tokens', trace.tokensOut),
    str('keel.route', trace.route),
    str('keel.decision', trace.decision),
    dbl('keel.cost_usd', trace.costUsd),
    bool('keel.stream', trace.stream),
    bool('keel.tokens_estimated', trace.estimated),
    int('http.response.status_code', trace.status),
    str('keel.request_id', trace.id),
  ];
  if (trace.upstreamModel !== undefined) attributes.push(str('gen_ai.response.model', trace.upstreamModel));
  if (trace.tokensCached > 0)
    attributes.push(int('gen_ai.usage.cache_read.input_tokens', trace.tokensCached));
  if (trace.target !== undefined) attributes.push(str('keel.target', trace.target));
  if (trace.ttftMs !== undefined) attributes.push(dbl('keel.ttft_ms', trace.ttftMs));
  if (trace.decisionPath.length > 0)
    attributes.push(str('keel.decision_path', trace.decisionPath.join(' | ')));
  if (trace.feature !== undefined) attributes.push(str('keel.feature', trace.feature));
  if (trace.key !== undefined) attributes.push(str('keel.key', trace.key));
  if (trace.session !== undefined) attributes.push(str('gen_ai.conversation.id', trace.session));
  if (trace.user !== undefined) attributes.push(str('user.id', trace.user));
  if (trace.slots.promptVersion !== undefined)
    attributes.push(str('keel.prompt_version', trace.slots.promptVersion));
  if (trace.outcome === 'error') attributes.push(str('error.type', trace.errorCode ?? '_OTHER'));
  if (includeBodies) attributes.push(...bodyAttributes(trace));

  const root: OtlpSpan = {
    traceId,
    spanId: rootSpanId,
    name: `${operation} ${trace.route}`,
    kind: SPAN_KIND.SERVER,
    startTimeUnixNano: unixNano(trace.startedAt),
    endTimeUnixNano: unixNano(Math.max(trace.endedAt, trace.startedAt)),
    attributes,
    status: errorStatus(trace.outcome === 'error', trace.errorCode, trace.errorMessage),
  };
  if (trace.slots.evals?.length) root.events = trace.slots.evals.map((e) => evaluationEvent(trace, e));

  const out = [root];
  trace.spans.forEach((span, index) => {
    if (span.outcome === 'skipped') return;
    out.push(attemptSpan(trace, span, operation, traceId, rootSpanId, attemptSpanId(trace.id, index)));
  });
  return out;
}

function attemptSpan(
  trace: Trace,
  span: Span,
  operation: string,
  traceId: string,
  parentSpanId: string,
  spanId: string,
): OtlpSpan {
  const attributes: OtlpAttribute[] = [
    str('gen_ai.operation.name', operation),
    str('gen_ai.provider.name', span.provider),
    str('gen_ai.request.model', span.target),
    int('gen_ai.usage.input_tokens', span.tokensIn),
    int('gen_ai.usage.output_tokens', span.tokensOut),
    str('keel.target', span.target),
    str('keel.attempt.reason', span.reason),
    int('keel.attempt.retry', span.retry),
    str('keel.attempt.outcome', span.outcome),
    dbl('keel.cost_usd', span.costUsd),
    bool('keel.tokens_estimated', span.estimated),
  ];
  if (span.upstreamModel !== undefined) attributes.push(str('gen_ai.response.model', span.upstreamModel));
  if (span.tokensCached > 0) attributes.push(int('gen_ai.usage.cache_read.input_tokens', span.tokensCached));
  if (span.upstreamStatus !== undefined)
    attributes.push(int('http.response.status_code', span.upstreamStatus));
  if (span.ttftMs !== undefined) attributes.push(dbl('keel.ttft_ms', span.ttftMs));
  if (span.chaos !== undefined) attributes.push(str('keel.chaos', span.chaos));
  const failed = span.outcome === 'error';
  // A cancelled attempt (a hedge loser) is no error: its outcome says what happened.
  if (failed) attributes.push(str('error.type', span.errorCode ?? '_OTHER'));
  const end =
    span.latencyMs !== undefined ? span.startedAt + span.latencyMs : Math.max(trace.endedAt, span.startedAt);
  return {
    traceId,
    spanId,
    parentSpanId,
    name: `${operation} ${span.upstreamModel ?? span.target}`,
    kind: SPAN_KIND.CLIENT,
    startTimeUnixNano: unixNano(span.startedAt),
    endTimeUnixNano: unixNano(end),
    attributes,
    status: errorStatus(failed, span.errorCode, span.errorMessage),
  };
}

function errorStatus(
  failed: boolean,
  code: string | undefined,
  message: string | undefined,
): OtlpSpan['status'] {
  if (!failed) return { code: STATUS_CODE.UNSET };
  const text = message ?? code;
  return text === undefined ? { code: STATUS_CODE.ERROR } : { code: STATUS_CODE.ERROR, message: text };
}

/**
 * `gen_ai.input.messages` / `gen_ai.output.messages` (JSON strings in the conventions' role + parts shape)
 * from the stored, redacted chat bodies. A body of another shape (embeddings, a hashed body) goes out as
 * is under `keel.request.body` / `keel.response.body`.
 */
function bodyAttributes(trace: Trace): OtlpAttribute[] {
  const out: OtlpAttribute[] = [];
  if (trace.request !== undefined) {
    const messages = inputMessages(trace.request);
    out.push(
      messages
        ? str('gen_ai.input.messages', JSON.stringify(messages))
        : str('keel.request.body', JSON.stringify(trace.request)),
    );
  }
  if (trace.response !== undefined) {
    const messages = outputMessages(trace.response);
    out.push(
      messages
        ? str('gen_ai.output.messages', JSON.stringify(messages))
        : str('keel.response.body', JSON.stringify(trace.response)),
    );
  }
  return out;
}

type Part = Record<string, unknown>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function contentParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.map((p): Part => {
    if (isRecord(p) && p.type === 'text' && typeof p.text === 'string')
      return { type: 'text', content: p.text };
    return isRecord(p) && typeof p.type === 'string' ? { type: p.type } : { type: 'unknown' };
  });
}

function toolCallParts(calls: unknown): Part[] {
  if (!Array.isArray(calls)) return [];
  return calls.filter(isRecord).map((c) => {
    const fn = isRecord(c.function) ? c.function : {};
    let args: unknown = fn.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        // keep the string
      }
    }
    return { type: 'tool_call', id: c.id, name: fn.name, arguments: args };
  });
}

function message(m: Record<string, unknown>): Part {
  const role = typeof m.role === 'string' ? m.role : 'user';
  if (role === 'tool') {
    return { role, parts: [{ type: 'tool_call_response', id: m.tool_call_id, result: m.content }] };
  }
  return { role, parts: [...contentParts(m.content), ...toolCallParts(m.tool_calls)] };
}

function inputMessages(request: unknown): Part[] | undefined {
  if (!isRecord(request) || !Array.isArray(request.messages)) return undefined;
  return request.messages.filter(isRecord).map(message);
}

function outputMessages(response: unknown): Part[] | undefined {
  if (!isRecord(response)) return undefined;
  // A stream's answer is stored as the one assembled message.
  if (response.role === 'assistant' && !('choices' in response)) {
    const { finish_reason } = response;
    return [{ ...message(response), ...(typeof finish_reason === 'string' && { finish_reason }) }];
  }
  if (!Array.isArray(response.choices)) return undefined;
  return response.choices.filter(isRecord).map((choice) => {
    const m = isRecord(choice.message) ? choice.message : isRecord(choice.delta) ? choice.delta : {};
    return {
      ...message({ role: 'assistant', ...m }),
      ...(typeof choice.finish_reason === 'string' && { finish_reason: choice.finish_reason }),
    };
  });
}

/** Epoch milliseconds (possibly fractional) as a decimal string of nanoseconds, exact beyond 2^53. */
export function unixNano(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

const str = (key: string, stringValue: string): OtlpAttribute => ({ key, value: { stringValue } });
/** int64 goes out as a decimal string (proto3 JSON mapping). */
const int = (key: string, n: number): OtlpAttribute => ({
  key,
  value: { intValue: String(Number.isFinite(n) ? Math.trunc(n) : 0) },
});
const dbl = (key: string, n: number): OtlpAttribute => ({
  key,
  value: { doubleValue: Number.isFinite(n) ? n : 0 },
});
const bool = (key: string, boolValue: boolean): OtlpAttribute => ({ key, value: { boolValue } });
