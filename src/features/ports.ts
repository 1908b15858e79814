/**
 * The ports of the feature pipeline: the narrow interfaces it needs from the rest of Keel (prompt
 * registry, router, guards, review queue, answer cache, release log). The pipeline imports none of
 * those modules; the server adapts each to its port.
 */
import type { ChatCompletion, ChatMessage, ChatRequest } from '../core/types.ts';
import type { InlineMessage } from './config.ts';
import type { ValidationFailureKind } from './contract.ts';

export type Awaitable<T> = T | Promise<T>;

/** A prompt version rendered with the caller's variables. */
export interface RenderedPrompt {
  messages: ChatMessage[];
  /** Model parameters the version carries, if any. */
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

/** The prompt registry, as the pipeline uses it. Versions are content hashes. */
export interface PromptsPort {
  /** The version `label` points at; undefined when the prompt or the label does not exist. */
  resolve(name: string, label: string): Awaitable<string | undefined>;
  /** Renders one version; throws (a KeelError naming the variable, for caller mistakes) when it cannot. */
  render(name: string, version: string, variables: Record<string, unknown>): Awaitable<RenderedPrompt>;
  /** Renders a feature's inline `messages` with the registry's template engine. */
  renderInline(messages: InlineMessage[], variables: Record<string, unknown>): Awaitable<RenderedPrompt>;
  /** The version most recently marked good (other than `excludeVersion`, when given). */
  lastKnownGood(name: string, excludeVersion?: string): Awaitable<string | undefined>;
  /** `version` just produced a valid answer. */
  markKnownGood(name: string, version: string): Awaitable<void>;
  /** An answer of `version` failed the contract (a registry may quarantine a version that keeps failing). */
  reportFailure?(name: string, version: string): Awaitable<void>;
}

/** What the router returns for one call of a route. */
export interface RouteAnswer {
  completion: ChatCompletion;
  costUsd: number;
  /** The route target (model) that answered. */
  target?: string | undefined;
}

/**
 * The router. `response_format` json_schema is always sent for a JSON contract: providers without
 * structured output translate it at their edge (Anthropic: an instruction in the system prompt).
 */
export interface ChatPort {
  chat(route: string, request: ChatRequest, signal: AbortSignal): Promise<RouteAnswer>;
}

/** The caller's part of a feature call, as guards see and may rewrite it. */
export interface FeatureInput {
  variables: Record<string, unknown>;
  messages: ChatMessage[];
}

export interface GuardContext {
  feature: string;
  requestId: string;
  /** The feature's opaque `guards` section. */
  spec: Record<string, unknown> | undefined;
  user?: string | undefined;
  session?: string | undefined;
  signal: AbortSignal;
}

export interface GuardFinding {
  guard: string;
  detail: string;
}

export type InputVerdict =
  | { action: 'allow'; findings?: GuardFinding[] }
  | { action: 'block'; guard: string; reason: string; status: 400 | 403 }
  | {
      action: 'redact';
      input: FeatureInput;
      /** placeholder → original text, to restore in the answer (`placeholders: restore`). */
      placeholders: Record<string, string>;
      findings?: GuardFinding[];
    };

export type OutputVerdict =
  | { action: 'allow'; findings?: GuardFinding[] }
  | { action: 'block'; guard: string; reason: string }
  | { action: 'redact'; text: string; findings?: GuardFinding[] };

/** Input and output guards (PII, injection, denylist). */
export interface GuardsPort {
  checkInput(input: FeatureInput, ctx: GuardContext): Promise<InputVerdict>;
  checkOutput(text: string, ctx: GuardContext): Promise<OutputVerdict>;
}

/** What a human reviewer gets when a feature escalates. */
export interface ReviewRequest {
  feature: string;
  requestId: string;
  promptVersion: string;
  route: string;
  /** The input as the model saw it (after input guards). */
  input: FeatureInput;
  user?: string | undefined;
  session?: string | undefined;
  /** Why the feature escalated: the failed steps, readable by a person. */
  reason: string;
  /** The last answer the model gave, if any, and what was wrong with it. */
  lastAnswer?: string | undefined;
  validationErrors: string[];
}

/** The human review queue. */
export interface ReviewPort {
  enqueue(item: ReviewRequest, signal: AbortSignal): Promise<{ id: string }>;
}

export interface CachedAnswer {
  text: string;
  promptVersion: string;
  storedAt: number;
}

/** Last valid answer per input hash (memory now; Redis later). */
export interface AnswerCachePort {
  get(key: string): Awaitable<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer): Awaitable<void>;
}

/** One arm's result on one request, as release stats count it. */
export interface ArmOutcome {
  version: string;
  route: string;
  /** The arm ended with a valid model answer: no fallback, no error. */
  ok: boolean;
  /** The arm's first answer against the contract; absent when the model gave none (route error). */
  validation?: { ok: boolean; kind?: ValidationFailureKind; errors?: string[] } | undefined;
  latencyMs: number;
  costUsd: number;
  /** The answer text (shadow records keep both side by side). */
  text?: string | undefined;
  error?: string | undefined;
}

export type ReleaseRecord =
  | {
      kind: 'canary';
      feature: string;
      requestId: string;
      at: number;
      arm: 'baseline' | 'canary';
      outcome: ArmOutcome;
    }
  | {
      kind: 'shadow';
      feature: string;
      requestId: string;
      at: number;
      baseline: ArmOutcome;
      candidate: ArmOutcome;
    };

/** Where canary and shadow outcomes go (`ReleaseLog` in memory; a store later). */
export interface ReleaseSink {
  record(record: ReleaseRecord): void;
}
