/**
 * What `keel eval run` evaluates, and how one case is sent to it through the gateway:
 *
 *   feature:NAME           POST /v1/features/NAME   { variables, messages }   (labels as configured)
 *   feature:NAME@VERSION   POST /v1/features/NAME   { variables, messages, version }   (pinned)
 *   route:NAME             POST /v1/chat/completions { model: NAME, messages }
 *   model:NAME             POST /v1/chat/completions { model: "model:NAME", messages } (one model, no fallback)
 */
import { InvalidArgumentError } from 'commander';
import type { EvalCase, InvokeFn, InvokeResult, ToolCallRecord } from '../evals/index.ts';
import { completionText, type GatewayAnswer, type GatewayClient } from './eval-gateway.ts';

export type Target =
  | { kind: 'feature'; name: string; version?: string; text: string }
  | { kind: 'route'; name: string; text: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const VERSION = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `feature:NAME`, `feature:NAME@VERSION`, `route:NAME` or `model:NAME` (a commander argument parser). */
export function parseTarget(value: string): Target {
  const colon = value.indexOf(':');
  const kind = colon < 0 ? '' : value.slice(0, colon);
  const rest = colon < 0 ? '' : value.slice(colon + 1);
  if (kind === 'route') {
    if (!NAME.test(rest)) throw new InvalidArgumentError(`"${value}": route:NAME needs a route name`);
    return { kind: 'route', name: rest, text: value };
  }
  if (kind === 'model') {
    if (!NAME.test(rest)) throw new InvalidArgumentError(`"${value}": model:NAME needs a model name`);
    return { kind: 'route', name: value, text: value };
  }
  if (kind === 'feature') {
    const at = rest.indexOf('@');
    const name = at < 0 ? rest : rest.slice(0, at);
    if (!NAME.test(name)) throw new InvalidArgumentError(`"${value}": feature:NAME needs a feature name`);
    if (at < 0) return { kind: 'feature', name, text: value };
    const version = rest.slice(at + 1);
    if (!VERSION.test(version))
      throw new InvalidArgumentError(`"${value}": the version after @ must be a prompt version id`);
    return { kind: 'feature', name, version, text: value };
  }
  throw new InvalidArgumentError(
    `"${value}": expected feature:NAME, feature:NAME@VERSION, route:NAME or model:NAME`,
  );
}

/** The id `GET /v1/models` lists for a target. */
export function modelId(target: Target): string {
  return target.kind === 'feature' ? `feature:${target.name}` : target.name;
}

/**
 * Problems that make a dataset unusable with a target, one line each: a route needs chat messages, so
 * a case that only has prompt variables cannot be sent to one.
 */
export function targetProblems(target: Target, cases: readonly EvalCase[]): string[] {
  if (target.kind !== 'route') return [];
  const noMessages = cases.filter((c) => !c.input.messages?.length).map((c) => c.id);
  if (noMessages.length === 0) return [];
  const shown = noMessages.slice(0, 10).join(', ') + (noMessages.length > 10 ? ', …' : '');
  return [
    `${target.text}: ${noMessages.length} case(s) have only input.variables and no input.messages (${shown}); ` +
      'a route takes chat messages: evaluate a feature:NAME target, or give those cases messages',
  ];
}

export interface InvokeOptions {
  /** Read each route answer's cost from its trace (only worth the extra calls when `cost` is scored). */
  routeCost?: boolean;
}

/** The runner's `invoke` for a target: one gateway call per (case, repeat). */
export function invoker(gateway: GatewayClient, target: Target, options: InvokeOptions = {}): InvokeFn {
  return target.kind === 'feature'
    ? (evalCase) => invokeFeature(gateway, target, evalCase)
    : (evalCase) => invokeRoute(gateway, target, evalCase, options.routeCost === true);
}

async function invokeFeature(
  gateway: GatewayClient,
  target: Extract<Target, { kind: 'feature' }>,
  evalCase: EvalCase,
): Promise<InvokeResult> {
  const started = performance.now();
  const answer = await gateway.post(`/v1/features/${encodeURIComponent(target.name)}`, {
    variables: evalCase.input.variables ?? {},
    messages: evalCase.input.messages ?? [],
    ...(target.version !== undefined ? { version: target.version } : {}),
  });
  const latencyMs = Math.round(performance.now() - started);
  const body = answer.body as { text?: unknown; cost_usd?: unknown; review_id?: unknown };
  if (answer.status === 202)
    return { output: '', latencyMs, error: `escalated to human review (review ${String(body.review_id)})` };
  if (answer.status !== 200) return { output: '', latencyMs, error: failure(answer) };
  return {
    output: typeof body.text === 'string' ? body.text : '',
    latencyMs,
    ...(typeof body.cost_usd === 'number' ? { costUsd: body.cost_usd } : {}),
  };
}

async function invokeRoute(
  gateway: GatewayClient,
  target: Target,
  evalCase: EvalCase,
  withCost: boolean,
): Promise<InvokeResult> {
  const started = performance.now();
  const answer = await gateway.post('/v1/chat/completions', {
    model: target.name,
    messages: evalCase.input.messages ?? [],
  });
  const latencyMs = Math.round(performance.now() - started);
  if (answer.status !== 200) return { output: '', latencyMs, error: failure(answer) };
  const result: InvokeResult = {
    output: completionText(answer.body) ?? '',
    latencyMs,
    toolCalls: toolCalls(answer.body),
  };
  const traceId = answer.headers.get('x-request-id');
  if (withCost && traceId) {
    const cost = await gateway.traceCost(traceId);
    if (cost !== undefined) result.costUsd = cost;
  }
  return result;
}

/** The first choice's tool calls as the trajectory scorers read them; `[]` when it called none. */
function toolCalls(body: unknown): ToolCallRecord[] {
  const message = (body as { choices?: Array<{ message?: { tool_calls?: unknown } }> }).choices?.[0]?.message;
  const calls = message?.tool_calls;
  if (!Array.isArray(calls)) return [];
  return calls.map((call: { function?: { name?: unknown; arguments?: unknown } }) => ({
    name: String(call.function?.name ?? ''),
    ...(call.function?.arguments !== undefined ? { arguments: call.function.arguments } : {}),
  }));
}

function failure(answer: GatewayAnswer): string {
  const error = (answer.body as { error?: { message?: unknown; code?: unknown } }).error;
  const message = typeof error?.message === 'string' ? error.message : 'request failed';
  return `${answer.status}: ${message}`;
}
