/**
 * What a feature call takes and gives back. The HTTP layer turns a FeatureResult into the
 * `/v1/features/{name}` body or, with `completion`, into an OpenAI chat completion.
 */
import { completionId } from '../core/ids.ts';
import type { ChatCompletion, ChatMessage } from '../core/types.ts';
import type { ReleaseArm } from './canary.ts';
import type { Decision, DecisionStep } from './decision.ts';
import type { GuardFinding } from './ports.ts';

export interface FeatureCallInput {
  variables?: Record<string, unknown> | undefined;
  messages?: ChatMessage[] | undefined;
  user?: string | undefined;
  session?: string | undefined;
  requestId: string;
  /**
   * Run exactly this prompt version (evals): no canary arm, no known-good switch, no release records.
   * A version that cannot be rendered is the caller's error.
   */
  version?: string | undefined;
}

export interface GuardNote {
  stage: 'input' | 'output';
  action: 'allow' | 'redact' | 'block';
  guard?: string;
  findings: GuardFinding[];
}

export type AnsweredBy = 'model' | 'cached' | 'clarify' | 'escalate';

export interface FeatureResult {
  /** 202 when the call was escalated to human review. */
  status: 200 | 202;
  /** The parsed JSON value for a JSON contract, else the text; null when escalated. */
  output: unknown;
  text: string;
  decision: Decision;
  answeredBy: AnsweredBy;
  path: DecisionStep[];
  /** The version that answered (a cached answer's own version); the version tried when none did. */
  promptVersion: string;
  releaseArm: ReleaseArm;
  /** The route whose model answered. */
  route?: string;
  reviewId?: string;
  /** The answer as an OpenAI chat completion (absent when escalated), text as the caller gets it. */
  completion?: ChatCompletion;
  guards: GuardNote[];
  /** What happened to redacted input placeholders in the answer. */
  placeholders: 'none' | 'restored' | 'kept';
  costUsd: number;
  latencyMs: number;
}

/** The model's completion with its text replaced by the final one (guarded, restored). */
export function withText(completion: ChatCompletion, text: string): ChatCompletion {
  const [first, ...rest] = completion.choices;
  if (!first) return completion;
  return { ...completion, choices: [{ ...first, message: { ...first.message, content: text } }, ...rest] };
}

/** A completion for an answer no model gave just now (cached, clarifying question). */
export function syntheticCompletion(feature: string, text: string, nowMs: number): ChatCompletion {
  return {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(nowMs / 1000),
    model: `feature:${feature}`,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}
