/**
 * Context recall (RAGAS): how much of the reference answer the retrieved contexts cover. The judge
 * splits the reference into statements and marks each attributable (1) or not (0) to the contexts.
 * Score = attributed / total. A reference with no statements is an error, not a score.
 */
import { z } from 'zod';
import { askJudgeJson } from './judge-json.ts';
import {
  jsonOnly,
  numbered,
  questionReferenceContexts,
  type RagJudgeOptions,
  verdictBit,
} from './rag-common.ts';
import { isScoreError, type Scorer } from './scorer.ts';

const classificationsSchema = z.strictObject({
  classifications: z.array(
    z.strictObject({ statement: z.string(), reason: z.string(), attributed: verdictBit }),
  ),
});

const PROMPT = `Given a question, a context and a reference answer, break the reference answer into its statements and, for each, decide whether it can be attributed to the context. Give attributed 1 if it can, 0 if it cannot.`;

/** @example contextRecall({ judge }) */
export function contextRecall(options: RagJudgeOptions): Scorer {
  const name = options.name ?? 'context-recall';
  return {
    name,
    kind: 'judged',
    async score(ctx) {
      const inputs = questionReferenceContexts(ctx);
      if (isScoreError(inputs)) return inputs;
      const { question, reference, contexts } = inputs;
      const result = await askJudgeJson(
        options.judge,
        [
          {
            role: 'user',
            content: `${PROMPT}\n\nQUESTION:\n${question}\n\nCONTEXT:\n${numbered(contexts)}\n\nREFERENCE ANSWER:\n${reference}\n\n${jsonOnly('{"classifications": [{"statement": "...", "reason": "...", "attributed": 0 or 1}]}')}`,
          },
        ],
        classificationsSchema,
        { step: `${name}: classifications`, retries: options.retries, signal: ctx.signal },
      );
      if (!result.ok) return { error: result.error };
      const { classifications } = result.value;
      if (classifications.length === 0) return { error: `${name}: the reference yielded no statements` };
      const attributed = classifications.filter((c) => c.attributed === 1).length;
      return {
        value: attributed / classifications.length,
        detail: `${attributed}/${classifications.length} reference statements found in the contexts`,
      };
    },
  };
}
