/**
 * Judged rubric scorer: the judge model grades the answer 1..5 against a written rubric and replies
 * `{"score": N, "reason": "..."}`. The score maps to a value as (score − 1) / 4.
 */
import { z } from 'zod';
import { messageText } from '../case.ts';
import { askJudgeJson } from './judge-json.ts';
import type { JudgeFn, Scorer } from './scorer.ts';

export const rubricVerdictSchema = z.strictObject({
  score: z.number().int().min(1).max(5),
  reason: z.string(),
});

export interface RubricOptions {
  name?: string;
  judge: JudgeFn;
  /** What a 5 and a 1 look like, in the judge's words. */
  rubric: string;
  /** Lowest score that passes (default 4). */
  passScore?: number;
  /** Corrective retries after an unusable reply (default 2). */
  retries?: number;
}

const SYSTEM = `You are a strict evaluator. Grade the ANSWER against the RUBRIC on a scale of 1 (worst) to 5 (best).
Reply with only a JSON object, no other text: {"score": <integer 1-5>, "reason": "<one or two sentences>"}`;

/** @example rubric({ judge, rubric: '5: polite, complete and correct. 1: rude or wrong.' }) */
export function rubric(options: RubricOptions): Scorer {
  const passScore = options.passScore ?? 4;
  return {
    name: options.name ?? 'rubric',
    kind: 'judged',
    async score({ evalCase, output, signal }) {
      const transcript = (evalCase.input.messages ?? []).map((m) => `${m.role}: ${messageText(m)}`);
      const input = transcript.length > 0 ? transcript.join('\n') : JSON.stringify(evalCase.input.variables);
      const expected = typeof evalCase.expected === 'string' ? evalCase.expected : evalCase.reference;
      const user = [
        `RUBRIC:\n${options.rubric}`,
        `INPUT:\n${input}`,
        ...(expected ? [`REFERENCE ANSWER:\n${expected}`] : []),
        `ANSWER:\n${output}`,
      ].join('\n\n');
      const verdict = await askJudgeJson(
        options.judge,
        [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: user },
        ],
        rubricVerdictSchema,
        { step: options.name ?? 'rubric', retries: options.retries, signal },
      );
      if (!verdict.ok) return { error: verdict.error };
      const { score, reason } = verdict.value;
      return { value: (score - 1) / 4, pass: score >= passScore, detail: `${score}/5: ${reason}` };
    },
  };
}
