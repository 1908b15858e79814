/**
 * Context precision (RAGAS, with reference): are the relevant chunks ranked first? The judge gives each
 * retrieved chunk, in rank order, a verdict v_k (1 if it is useful for arriving at the reference answer).
 * Score = Σ_k precision@k · v_k / Σ_k v_k, where precision@k = (v_1 + … + v_k) / k; 0 when no chunk is
 * relevant.
 */
import { z } from 'zod';
import { askJudgeJson } from './judge-json.ts';
import { jsonOnly, questionReferenceContexts, type RagJudgeOptions, verdictBit } from './rag-common.ts';
import { isScoreError, type Scorer } from './scorer.ts';

const chunkVerdictSchema = z.strictObject({ reason: z.string(), verdict: verdictBit });

const PROMPT = `Given a question, a reference answer and one retrieved context, say whether the context was useful in arriving at the reference answer. Give verdict 1 if it was useful, 0 if it was not.`;

/** Mean of precision@k over the ranks k that hold a relevant chunk; 0 when none does. */
export function averagePrecision(verdicts: readonly (0 | 1)[]): number {
  let relevantSoFar = 0;
  let sum = 0;
  verdicts.forEach((v, index) => {
    relevantSoFar += v;
    if (v === 1) sum += relevantSoFar / (index + 1);
  });
  return relevantSoFar === 0 ? 0 : sum / relevantSoFar;
}

/** @example contextPrecision({ judge }) */
export function contextPrecision(options: RagJudgeOptions): Scorer {
  const name = options.name ?? 'context-precision';
  return {
    name,
    kind: 'judged',
    async score(ctx) {
      const inputs = questionReferenceContexts(ctx);
      if (isScoreError(inputs)) return inputs;
      const { question, reference, contexts } = inputs;
      const verdicts: (0 | 1)[] = [];
      for (const [index, context] of contexts.entries()) {
        const verdict = await askJudgeJson(
          options.judge,
          [
            {
              role: 'user',
              content: `${PROMPT}\n\nQUESTION:\n${question}\n\nREFERENCE ANSWER:\n${reference}\n\nCONTEXT:\n${context}\n\n${jsonOnly('{"reason": "...", "verdict": 0 or 1}')}`,
            },
          ],
          chunkVerdictSchema,
          { step: `${name}: chunk ${index + 1}`, retries: options.retries, signal: ctx.signal },
        );
        if (!verdict.ok) return { error: verdict.error };
        verdicts.push(verdict.value.verdict);
      }
      return { value: averagePrecision(verdicts), detail: `relevance by rank: ${verdicts.join('')}` };
    },
  };
}
