/**
 * The declared fallbacks of a feature, tried in order once the attempts are spent: another route
 * (its answer validated like any other), the cached last valid answer for this input (re-checked
 * against today's contract), a clarifying question, or escalation to the human review queue.
 */
import type { Clock } from '../core/clock.ts';
import { type AttemptResult, errorOf, runAttempt } from './attempt.ts';
import type { CompiledFeature, FallbackStep } from './config.ts';
import { checkContract } from './contract.ts';
import { type Decision, type DecisionStep, decisionHeader } from './decision.ts';
import type { AnswerCachePort, ChatPort, FeatureInput, ReviewPort } from './ports.ts';
import type { AttemptPlan } from './retry.ts';

export type Answer =
  | {
      source: 'model';
      attempt: AttemptResult;
      text: string;
      value: unknown;
      version: string;
      decision: Decision;
    }
  | { source: 'cached'; text: string; value: unknown; version: string }
  | { source: 'clarify'; text: string }
  | { source: 'escalate'; reviewId: string };

export interface FallbackDeps {
  chat: ChatPort;
  clock: Clock;
  cache: AnswerCachePort;
  review?: ReviewPort | undefined;
}

export interface FallbackContext {
  feature: CompiledFeature;
  requestId: string;
  user?: string | undefined;
  session?: string | undefined;
  /** The input as the model saw it. */
  input: FeatureInput;
  cacheKey: string;
  version: string;
  /** The first attempt's plan: a fallback route gets the same messages. */
  plan: AttemptPlan;
  maxTokens?: number | undefined;
  path: DecisionStep[];
  /** The last model answer, for the reviewer. */
  lastAttempt?: AttemptResult | undefined;
}

function step(
  via: NonNullable<DecisionStep['via']>,
  fields: Omit<DecisionStep, 'kind' | 'via' | 'costUsd' | 'latencyMs'>,
  startedAt: number,
  clock: Clock,
): DecisionStep {
  return { kind: 'fallback', via, ...fields, latencyMs: clock.now() - startedAt, costUsd: 0 };
}

async function viaRoute(deps: FallbackDeps, ctx: FallbackContext, route: string, signal: AbortSignal) {
  const attempt = await runAttempt(
    deps.chat,
    deps.clock,
    {
      feature: ctx.feature,
      route,
      version: ctx.version,
      plan: ctx.plan,
      maxTokens: ctx.maxTokens,
      user: ctx.user,
      kind: 'fallback',
      via: 'route',
      why: `fallback to route ${route}`,
    },
    signal,
  );
  ctx.path.push(attempt.step);
  if (attempt.text !== undefined) ctx.lastAttempt = attempt;
  if (attempt.validation?.ok && attempt.text !== undefined) {
    return {
      source: 'model',
      attempt,
      text: attempt.text,
      value: attempt.validation.value,
      version: ctx.version,
      decision: 'fallback',
    } as const;
  }
  return undefined;
}

async function viaCache(deps: FallbackDeps, ctx: FallbackContext) {
  const startedAt = deps.clock.now();
  const hit = await deps.cache.get(ctx.cacheKey);
  const checked = hit && checkContract(hit.text, ctx.feature.config.contract, ctx.feature.validate);
  const why = !hit
    ? 'no valid answer stored for this input'
    : checked?.ok
      ? `the last valid answer for this input, from ${new Date(hit.storedAt).toISOString()}`
      : 'the stored answer no longer satisfies the contract';
  ctx.path.push(
    step(
      'cached',
      { ok: checked?.ok === true, ...(hit ? { promptVersion: hit.promptVersion } : {}), why },
      startedAt,
      deps.clock,
    ),
  );
  if (hit && checked?.ok) {
    return { source: 'cached', text: hit.text, value: checked.value, version: hit.promptVersion } as const;
  }
  return undefined;
}

async function viaReview(deps: FallbackDeps, ctx: FallbackContext, signal: AbortSignal) {
  const startedAt = deps.clock.now();
  if (!deps.review) {
    ctx.path.push(
      step('escalate', { ok: false, why: 'no review queue is configured' }, startedAt, deps.clock),
    );
    return undefined;
  }
  try {
    const { id } = await deps.review.enqueue(
      {
        feature: ctx.feature.name,
        requestId: ctx.requestId,
        promptVersion: ctx.version,
        route: ctx.feature.config.route,
        input: ctx.input,
        user: ctx.user,
        session: ctx.session,
        reason: `no valid answer: ${decisionHeader('fallback', ctx.path)}`,
        lastAnswer: ctx.lastAttempt?.text,
        validationErrors: ctx.lastAttempt?.step.validation?.errors ?? [],
      },
      signal,
    );
    ctx.path.push(
      step('escalate', { ok: true, why: `escalated to human review as ${id}` }, startedAt, deps.clock),
    );
    return { source: 'escalate', reviewId: id } as const;
  } catch (err) {
    signal.throwIfAborted();
    ctx.path.push(
      step(
        'escalate',
        { ok: false, error: errorOf(err), why: 'the review queue refused' },
        startedAt,
        deps.clock,
      ),
    );
    return undefined;
  }
}

function runOne(deps: FallbackDeps, ctx: FallbackContext, fallback: FallbackStep, signal: AbortSignal) {
  if ('route' in fallback) return viaRoute(deps, ctx, fallback.route, signal);
  if ('cached' in fallback) return viaCache(deps, ctx);
  if ('clarify' in fallback) {
    ctx.path.push(
      step(
        'clarify',
        { ok: true, why: 'asking the caller a clarifying question' },
        deps.clock.now(),
        deps.clock,
      ),
    );
    return Promise.resolve({ source: 'clarify', text: fallback.clarify } as const);
  }
  return viaReview(deps, ctx, signal);
}

/** The first fallback that gives an answer, in declared order; undefined when none does. */
export async function runFallbacks(
  deps: FallbackDeps,
  ctx: FallbackContext,
  signal: AbortSignal,
): Promise<Answer | undefined> {
  for (const fallback of ctx.feature.config.fallback) {
    signal.throwIfAborted();
    const answer = await runOne(deps, ctx, fallback, signal);
    if (answer) return answer;
  }
  return undefined;
}
