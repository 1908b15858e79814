/**
 * One model attempt of a feature: build the chat request (with structured output for a JSON
 * contract), call the route, check the answer against the contract, and write the step. A failed
 * route is a failed step, not a throw; only the caller's abort (deadline, client gone) propagates.
 */
import type { Clock } from '../core/clock.ts';
import type { ChatCompletion, ChatRequest } from '../core/types.ts';
import type { CompiledFeature } from './config.ts';
import { checkContract, type Validation } from './contract.ts';
import type { DecisionStep, FallbackVia, StepKind } from './decision.ts';
import type { ChatPort } from './ports.ts';
import type { AttemptPlan } from './retry.ts';

export interface AttemptSpec {
  feature: CompiledFeature;
  route: string;
  version: string;
  plan: AttemptPlan;
  maxTokens?: number | undefined;
  user?: string | undefined;
  kind: StepKind;
  via?: FallbackVia;
  why: string;
}

export interface AttemptResult {
  step: DecisionStep;
  /** The model's answer text, when the route answered. */
  text?: string;
  validation?: Validation;
  completion?: ChatCompletion;
}

/** The text of the first choice; content parts are joined, a missing content is empty. */
export function answerText(completion: ChatCompletion): string {
  const content = completion.choices[0]?.message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? '').join('');
  return '';
}

export function chatRequest(spec: AttemptSpec): ChatRequest {
  const { contract } = spec.feature.config;
  const request: ChatRequest = { model: spec.route, messages: spec.plan.messages };
  if (spec.plan.temperature !== undefined) request.temperature = spec.plan.temperature;
  if (spec.maxTokens !== undefined) request.max_tokens = spec.maxTokens;
  if (spec.user !== undefined) request.user = spec.user;
  if (contract !== 'text') {
    request.response_format = {
      type: 'json_schema',
      json_schema: {
        name: spec.feature.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
        schema: contract.schema,
        strict: contract.strict,
      },
    };
  }
  return request;
}

/** A thrown error as a step records it: its code (when it has one) and message. */
export function errorOf(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : 'KEEL_INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  };
}

export async function runAttempt(
  chat: ChatPort,
  clock: Clock,
  spec: AttemptSpec,
  signal: AbortSignal,
): Promise<AttemptResult> {
  signal.throwIfAborted();
  const startedAt = clock.now();
  const step: DecisionStep = {
    kind: spec.kind,
    ...(spec.via ? { via: spec.via } : {}),
    ok: false,
    promptVersion: spec.version,
    route: spec.route,
    latencyMs: 0,
    costUsd: 0,
    why: spec.why,
  };
  try {
    const answer = await chat.chat(spec.route, chatRequest(spec), signal);
    const text = answerText(answer.completion);
    const validation = checkContract(text, spec.feature.config.contract, spec.feature.validate);
    step.ok = validation.ok;
    step.validation = validation.ok ? { ok: true } : validation;
    step.costUsd = answer.costUsd;
    if (answer.target !== undefined) step.target = answer.target;
    return { step, text, validation, completion: answer.completion };
  } catch (err) {
    signal.throwIfAborted();
    step.error = errorOf(err);
    return { step };
  } finally {
    step.latencyMs = clock.now() - startedAt;
  }
}
