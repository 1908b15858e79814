/** Column lists and row mapping between a Trace and the `traces` / `spans` tables. */
import type { Trace } from '../../telemetry/trace.ts';
import { bodyText } from '../common.ts';
import type { TraceSummary } from '../trace-store.ts';

export const TRACE_COLUMNS = [
  'id',
  'started_at',
  'ended_at',
  'duration_ms',
  'route',
  'feature',
  '"key"',
  '"user"',
  'session',
  'status',
  'outcome',
  'error_code',
  'error_message',
  'decision',
  'target',
  'upstream_model',
  'ttft_ms',
  'tokens_in',
  'tokens_out',
  'tokens_cached',
  'estimated',
  'cost_usd',
  'endpoint',
  'stream',
  'doc',
  'body_text',
] as const;

export const SPAN_COLUMNS = [
  'trace_id',
  'idx',
  'target',
  'provider',
  'reason',
  'outcome',
  'latency_ms',
  'ttft_ms',
  'error_code',
  'cost_usd',
  'started_at',
] as const;

export const SUMMARY_SELECT = TRACE_COLUMNS.filter((c) => c !== 'doc' && c !== 'body_text').join(', ');

export type Value = string | number | null;

export interface SummaryRow {
  id: string;
  started_at: number;
  ended_at: number;
  duration_ms: number;
  route: string;
  feature: string | null;
  key: string | null;
  user: string | null;
  session: string | null;
  status: number;
  outcome: 'ok' | 'error';
  error_code: string | null;
  error_message: string | null;
  decision: Trace['decision'];
  target: string | null;
  upstream_model: string | null;
  ttft_ms: number | null;
  tokens_in: number;
  tokens_out: number;
  tokens_cached: number;
  estimated: number;
  cost_usd: number;
  endpoint: Trace['endpoint'];
  stream: number;
}

export function traceValues(t: Trace): Value[] {
  return [
    t.id,
    t.startedAt,
    t.endedAt,
    t.durationMs,
    t.route,
    t.feature ?? null,
    t.key ?? null,
    t.user ?? null,
    t.session ?? null,
    t.status,
    t.outcome,
    t.errorCode ?? null,
    t.errorMessage ?? null,
    t.decision,
    t.target ?? null,
    t.upstreamModel ?? null,
    t.ttftMs ?? null,
    t.tokensIn,
    t.tokensOut,
    t.tokensCached,
    t.estimated ? 1 : 0,
    t.costUsd,
    t.endpoint,
    t.stream ? 1 : 0,
    JSON.stringify(t),
    bodyText(t),
  ];
}

export function toSummary(r: SummaryRow): TraceSummary {
  const s: TraceSummary = {
    id: r.id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: r.duration_ms,
    endpoint: r.endpoint,
    stream: r.stream === 1,
    route: r.route,
    status: r.status,
    outcome: r.outcome,
    decision: r.decision,
    tokensIn: r.tokens_in,
    tokensOut: r.tokens_out,
    tokensCached: r.tokens_cached,
    estimated: r.estimated === 1,
    costUsd: r.cost_usd,
  };
  if (r.feature !== null) s.feature = r.feature;
  if (r.key !== null) s.key = r.key;
  if (r.user !== null) s.user = r.user;
  if (r.session !== null) s.session = r.session;
  if (r.error_code !== null) s.errorCode = r.error_code;
  if (r.error_message !== null) s.errorMessage = r.error_message;
  if (r.target !== null) s.target = r.target;
  if (r.upstream_model !== null) s.upstreamModel = r.upstream_model;
  if (r.ttft_ms !== null) s.ttftMs = r.ttft_ms;
  return s;
}

export function spanValues(t: Trace): Value[][] {
  return t.spans.map((s, i) => [
    t.id,
    i,
    s.target,
    s.provider,
    s.reason,
    s.outcome,
    s.latencyMs ?? null,
    s.ttftMs ?? null,
    s.errorCode ?? null,
    s.costUsd,
    s.startedAt,
  ]);
}
