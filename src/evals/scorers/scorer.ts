/**
 * The scorer contract every metric implements, the shapes it reads and returns, and the injected model
 * functions (`judge`, `embed`) that judged and semantic scorers call. A scorer that cannot score returns
 * `{ error }`: an error is never a 0 and never NaN.
 */
import type { EvalCase } from '../case.ts';

/** A tool call a run made, as the runner reports it. `arguments` may be an object or its JSON text. */
export interface ToolCallRecord {
  name: string;
  arguments?: unknown;
}

export interface ScoreContext {
  evalCase: EvalCase;
  /** The model's answer text. */
  output: string;
  latencyMs: number;
  costUsd?: number;
  toolCalls?: ToolCallRecord[];
  /** Contexts the run retrieved; scorers fall back to the case's `contexts`. */
  contexts?: string[];
  signal?: AbortSignal;
}

export type ScoreValue = { value: number; pass?: boolean; detail?: string };
export type ScoreError = { error: string };
export type ScoreResult = ScoreValue | ScoreError;

export type ScorerKind = 'deterministic' | 'semantic' | 'judged';

export interface Scorer {
  /** Unique within a run: it names the metric in results, the gate and reports. */
  name: string;
  kind: ScorerKind;
  score(ctx: ScoreContext): Promise<ScoreResult>;
}

/** A chat message sent to the judge model. */
export interface JudgeMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sends messages to the judge model and resolves with its reply text. */
export type JudgeFn = (messages: JudgeMessage[], options?: { signal?: AbortSignal }) => Promise<string>;

/** Embeds texts, one vector per text, in order. */
export type EmbedFn = (texts: string[], options?: { signal?: AbortSignal }) => Promise<number[][]>;

/** A scorer parameter given as a value, or read from the case (return undefined when it has none). */
export type Param<T> = T | ((evalCase: EvalCase) => T | undefined);

export function resolveParam<T>(param: Param<T> | undefined, evalCase: EvalCase): T | undefined {
  return typeof param === 'function' ? (param as (c: EvalCase) => T | undefined)(evalCase) : param;
}

export function isScoreError(result: unknown): result is ScoreError {
  return typeof result === 'object' && result !== null && 'error' in result;
}

/** A pass/fail score: 1 or 0. */
export function binary(pass: boolean, detail?: string): ScoreValue {
  return detail === undefined ? { value: pass ? 1 : 0, pass } : { value: pass ? 1 : 0, pass, detail };
}

export function scoreError(error: string): ScoreError {
  return { error };
}

/** The case's `expected` as text, or an error naming the case when it has none. */
export function expectedText(evalCase: EvalCase, override?: Param<string>): string | ScoreError {
  const given = resolveParam(override, evalCase);
  if (given !== undefined) return given;
  if (typeof evalCase.expected === 'string') return evalCase.expected;
  return scoreError(`case "${evalCase.id}" has no expected text`);
}

/**
 * Runs a scorer so that whatever goes wrong becomes `{ error }`: a throw, a rejected promise, or a value
 * outside 0..1 (NaN included). Results are what the runner and gate store.
 */
export async function safeScore(scorer: Scorer, ctx: ScoreContext): Promise<ScoreResult> {
  try {
    const result = await scorer.score(ctx);
    if (isScoreError(result)) return { error: String(result.error) };
    if (
      typeof result.value !== 'number' ||
      !Number.isFinite(result.value) ||
      result.value < 0 ||
      result.value > 1
    )
      return scoreError(`${scorer.name} returned ${String(result.value)}, not a number in 0..1`);
    return result;
  } catch (error) {
    return scoreError(`${scorer.name} threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}
