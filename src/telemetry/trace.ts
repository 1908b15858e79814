/**
 * The trace: one record per request, the single place every decision is written. Stores, exporters,
 * metrics and the admin API all read this shape.
 */

export type Decision = 'primary' | 'retry' | 'fallback' | 'hedge' | 'error';
export type SpanReason = 'primary' | 'retry' | 'fallback' | 'hedge';

/** One attempt against one target. */
export interface Span {
  target: string;
  provider: string;
  /** The upstream model as the upstream named it in its answer (its version), when it answered. */
  upstreamModel?: string;
  reason: SpanReason;
  retry: number;
  outcome: 'ok' | 'error' | 'cancelled' | 'skipped' | 'pending';
  startedAt: number;
  latencyMs?: number;
  ttftMs?: number;
  errorCode?: string;
  errorMessage?: string;
  upstreamStatus?: number;
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
  /** True when the token figures were counted by Keel because the upstream gave none. */
  estimated: boolean;
  costUsd: number;
  /** The attempt ran while a chaos fault was injected on its target. */
  chaos?: string;
}

/** One online evaluation score, in the OpenTelemetry GenAI `gen_ai.evaluation.result` shape. */
export interface EvaluationResult {
  name: string;
  kind: 'heuristic' | 'judged';
  /** 0..1; absent when the scorer could not score (then `error` says why: never a silent 0). */
  value?: number;
  label?: 'pass' | 'fail';
  explanation?: string;
  error?: string;
}

/** Named slots later capabilities fill (features, prompts, retrieval, tools, contracts). */
export interface TraceSlots {
  promptVersion?: string;
  contextIds?: string[];
  toolCalls?: unknown[];
  toolOutputs?: unknown[];
  validation?: unknown;
  /** Online evaluation scores (gen_ai.evaluation.result): heuristics on every call, a judge on a sample. */
  evals?: EvaluationResult[];
  /** A feature call: its decision (pass / retry / fallback), release arm, who answered, review id. */
  feature?: {
    decision: string;
    releaseArm?: string;
    answeredBy?: string;
    reviewId?: string;
    /** What the input and output guards did: guard names, actions and entity types, never matched text. */
    guards?: unknown[];
  };
}

export interface Trace {
  id: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  endpoint: 'chat' | 'embeddings';
  stream: boolean;
  route: string;
  feature?: string;
  /** Who asked: the virtual key's name (never the key), user, session. */
  key?: string;
  user?: string;
  session?: string;
  /** HTTP status the client got (200 even when a stream later failed: see `outcome`). */
  status: number;
  outcome: 'ok' | 'error';
  errorCode?: string;
  errorMessage?: string;
  decision: Decision;
  /** Why each step happened, in order, readable by a person. */
  decisionPath: string[];
  target?: string;
  upstreamModel?: string;
  ttftMs?: number;
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
  estimated: boolean;
  costUsd: number;
  spans: Span[];
  slots: TraceSlots;
  /** Bodies, as the route's body policy leaves them (redacted by default) once the trace is stored. */
  request?: unknown;
  response?: unknown;
}
