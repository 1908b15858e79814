/**
 * What the four RAG metrics share: reading the question, the retrieved contexts and the reference answer
 * from a scored run (each missing one is a named error), and the 0/1 verdict schema the judge returns.
 */
import { z } from 'zod';
import { questionOf } from '../case.ts';
import { isScoreError, type JudgeFn, type ScoreContext, type ScoreError } from './scorer.ts';

export interface RagJudgeOptions {
  name?: string;
  judge: JudgeFn;
  /** Corrective retries per judge call after an unusable reply (default 2). */
  retries?: number;
}

export const verdictBit = z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' });

export function questionFor(ctx: ScoreContext): string | ScoreError {
  return (
    questionOf(ctx.evalCase) ?? {
      error: `case "${ctx.evalCase.id}" has no question (user message or variable)`,
    }
  );
}

/** The contexts the run retrieved, else the case's; an empty list is an error (nothing to judge). */
export function contextsFor(ctx: ScoreContext): string[] | ScoreError {
  const contexts = ctx.contexts ?? ctx.evalCase.contexts;
  if (!contexts || contexts.length === 0)
    return { error: `case "${ctx.evalCase.id}": no contexts (neither the run nor the case gave any)` };
  return contexts;
}

/** The case's reference answer (`reference`, else the `expected` text). */
export function referenceFor(ctx: ScoreContext): string | ScoreError {
  const { reference, expected } = ctx.evalCase;
  const text = reference ?? (typeof expected === 'string' ? expected : undefined);
  return text ?? { error: `case "${ctx.evalCase.id}" has no reference answer` };
}

/** Question, reference answer and contexts: what context precision and context recall both need. */
export function questionReferenceContexts(
  ctx: ScoreContext,
): { question: string; reference: string; contexts: string[] } | ScoreError {
  const question = questionFor(ctx);
  if (isScoreError(question)) return question;
  const reference = referenceFor(ctx);
  if (isScoreError(reference)) return reference;
  const contexts = contextsFor(ctx);
  if (isScoreError(contexts)) return contexts;
  return { question, reference, contexts };
}

export function numbered(contexts: readonly string[]): string {
  return contexts.map((c, i) => `[${i + 1}] ${c}`).join('\n\n');
}

/** The JSON-only instruction appended to every RAG judge prompt. */
export function jsonOnly(shape: string): string {
  return `Reply with only a JSON object, no other text, in exactly this shape:\n${shape}`;
}
