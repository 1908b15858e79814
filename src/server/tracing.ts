import type { KeelError } from '../core/errors.ts';
import type { ChatMessage, Usage } from '../core/types.ts';
import type { RouteOutcome } from '../router/router.ts';
import type { AttemptRecord } from '../router/target.ts';
import { costUsd, estimateTokens, type PriceBook } from '../telemetry/cost.ts';
import type { Decision, EvaluationResult, Span, Trace } from '../telemetry/trace.ts';
import type { Pass } from './edge.ts';

/** What the HTTP layer knows about one request by the time it has answered. */
export interface RequestRecord {
  id: string;
  startedAt: number;
  endpoint: Trace['endpoint'];
  stream: boolean;
  route: string;
  user?: string | undefined;
  session?: string | undefined;
  feature?: string | undefined;
  key?: string | undefined;
  request: unknown;
  messages?: ChatMessage[] | undefined;
  attempts: AttemptRecord[];
  outcome?: RouteOutcome | undefined;
  error?: KeelError | undefined;
  status: number;
  response?: unknown;
  /** Streams: the text the client received, for token estimates when the upstream sent no usage. */
  streamedText?: string | undefined;
  /** A feature call's decision (pass / retry / fallback), its steps, prompt version and validations. */
  featureRun?:
    | {
        decision: string;
        steps: string[];
        promptVersion?: string;
        releaseArm?: string;
        answeredBy?: string;
        reviewId?: string;
        guards?: unknown[];
        validation?: unknown[];
      }
    | undefined;
  /** Online evaluation scores known when the answer is sent (heuristics). */
  evals?: EvaluationResult[] | undefined;
  /** A judge verdict still coming: the trace is stored once it is in (the answer does not wait). */
  pendingEvals?: Promise<EvaluationResult[]> | undefined;
  /** What the edge let the request through with; settled with the trace's tokens and cost. */
  pass?: Pass | undefined;
}

const headerValue = (v: string | string[] | undefined): string | undefined => {
  const value = Array.isArray(v) ? v[0] : v;
  return value ? value.slice(0, 128) : undefined;
};

/** Caller tags from x-keel-user / x-keel-session / x-keel-feature, falling back to OpenAI's `user`. */
export function callerTags(headers: Record<string, string | string[] | undefined>, bodyUser: unknown) {
  return {
    user:
      headerValue(headers['x-keel-user']) ??
      (typeof bodyUser === 'string' ? bodyUser.slice(0, 128) : undefined),
    session: headerValue(headers['x-keel-session']),
    feature: headerValue(headers['x-keel-feature']),
  };
}

function messageText(messages: ChatMessage[] | undefined): string {
  if (!messages) return '';
  return messages
    .map((m) =>
      typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join(' '),
    )
    .join('\n');
}

function tokensOf(usage: Usage | undefined) {
  if (!usage) return undefined;
  return {
    input: usage.prompt_tokens ?? 0,
    output: usage.completion_tokens ?? 0,
    cached: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

const CANCELLED_BECAUSE: Record<string, string> = {
  KEEL_CLIENT_CLOSED: 'client left',
  KEEL_ATTEMPT_TOO_SLOW:
    'too slow: no first token by hedgeAfterMs, the hedge won; counted against the breaker',
};

function step(a: AttemptRecord): string {
  const label = a.reason === 'retry' ? `retry ${a.retry}` : a.reason;
  const head = `${label} → ${a.target}`;
  switch (a.outcome) {
    case 'skipped':
      return `${head}: skipped (${a.skipped === 'killed' ? 'kill switch' : 'breaker open'})`;
    case 'ok':
      return `${head}: ok in ${a.latencyMs ?? 0} ms`;
    case 'cancelled':
      return `${head}: cancelled (${CANCELLED_BECAUSE[a.errorCode ?? ''] ?? 'another attempt won'})`;
    case 'pending':
      return `${head}: unfinished`;
    default:
      return `${head}: ${a.errorCode} (${a.errorMessage ?? ''})`;
  }
}

/** The decision path in words: each attempt, who answered, how it failed, and a feature's steps. */
function decisionPath(rec: RequestRecord, decision: Decision): string[] {
  const path = rec.attempts.map(step);
  const winner = rec.outcome?.target;
  if (winner) path.push(`answered by ${winner} (${decision})`);
  if (rec.error && rec.outcome)
    path.push(`stream broke after the first byte: ${rec.error.code} → error event, no [DONE]`);
  else if (rec.error) path.push(`failed: ${rec.error.code} → ${rec.status} to the client`);
  if (rec.featureRun) {
    path.push(...rec.featureRun.steps.map((line) => `feature ${line}`));
    path.push(`feature decision: ${rec.featureRun.decision}`);
  }
  return path;
}

/**
 * Build the trace: one span per attempt, costs, the decision path. Bodies are still raw here. With
 * `describe: false` the decision path stays empty: a gateway that stores no trace only counts it.
 */
export function buildTrace(
  rec: RequestRecord,
  prices: PriceBook,
  now: number,
  { describe = true }: { describe?: boolean } = {},
): Trace {
  const winner = rec.outcome?.target;
  const spans: Span[] = rec.attempts.map((a) => {
    let tokens = tokensOf(a.usage);
    let estimated = false;
    const delivered = a.target === winner && (a.outcome === 'ok' || (rec.stream && a.outcome === 'error'));
    if (!tokens && delivered && a.reason === rec.outcome?.decision) {
      // The upstream sent no usage (streams often don't): count what was sent and received.
      tokens = {
        input: estimateTokens(messageText(rec.messages)),
        output: estimateTokens(rec.streamedText ?? ''),
        cached: 0,
      };
      estimated = true;
    }
    const t = tokens ?? { input: 0, output: 0, cached: 0 };
    const span: Span = {
      target: a.target,
      provider: a.provider,
      reason: a.reason,
      retry: a.retry,
      outcome: a.outcome,
      startedAt: a.startedAt,
      tokensIn: t.input,
      tokensOut: t.output,
      tokensCached: t.cached,
      estimated,
      costUsd: costUsd(t, prices.priceOf(a.target)),
    };
    if (a.upstreamModel !== undefined) span.upstreamModel = a.upstreamModel;
    if (a.latencyMs !== undefined) span.latencyMs = a.latencyMs;
    if (a.ttftMs !== undefined) span.ttftMs = a.ttftMs;
    if (a.errorCode !== undefined) span.errorCode = a.errorCode;
    if (a.errorMessage !== undefined) span.errorMessage = a.errorMessage;
    if (a.upstreamStatus !== undefined) span.upstreamStatus = a.upstreamStatus;
    if (a.chaos !== undefined) span.chaos = a.chaos;
    return span;
  });

  const failed = rec.error !== undefined;
  const decision: Decision = rec.outcome?.decision ?? 'error';
  // One pass for the totals and the span that answered.
  let tokensIn = 0;
  let tokensOut = 0;
  let tokensCached = 0;
  let cost = 0;
  let estimated = false;
  let won: Span | undefined;
  for (const s of spans) {
    tokensIn += s.tokensIn;
    tokensOut += s.tokensOut;
    tokensCached += s.tokensCached;
    cost += s.costUsd;
    estimated ||= s.estimated;
    if (won === undefined && s.target === winner && (s.outcome === 'ok' || rec.stream)) won = s;
  }
  const trace: Trace = {
    id: rec.id,
    startedAt: rec.startedAt,
    endedAt: now,
    durationMs: now - rec.startedAt,
    endpoint: rec.endpoint,
    stream: rec.stream,
    route: rec.route,
    status: rec.status,
    outcome: failed ? 'error' : 'ok',
    decision,
    decisionPath: describe ? decisionPath(rec, decision) : [],
    tokensIn,
    tokensOut,
    tokensCached,
    estimated,
    costUsd: cost,
    spans,
    slots: {},
    request: rec.request,
  };
  if (rec.featureRun) {
    const { steps, promptVersion, validation, ...feature } = rec.featureRun;
    if (promptVersion !== undefined) trace.slots.promptVersion = promptVersion;
    if (validation !== undefined) trace.slots.validation = validation;
    trace.slots.feature = feature;
  }
  if (rec.evals !== undefined) trace.slots.evals = [...rec.evals];
  if (rec.response !== undefined) trace.response = rec.response;
  if (rec.feature !== undefined) trace.feature = rec.feature;
  if (rec.user !== undefined) trace.user = rec.user;
  if (rec.session !== undefined) trace.session = rec.session;
  if (rec.key !== undefined) trace.key = rec.key;
  if (rec.error) {
    trace.errorCode = rec.error.code;
    trace.errorMessage = rec.error.message;
  }
  if (winner !== undefined) trace.target = winner;
  if (won?.upstreamModel !== undefined) trace.upstreamModel = won.upstreamModel;
  // What the client saw: from its request to the first token, earlier failed attempts included.
  if (won?.ttftMs !== undefined) trace.ttftMs = won.startedAt - rec.startedAt + won.ttftMs;
  return trace;
}
