/**
 * Answer relevancy (RAGAS): how well the answer addresses the question asked. The judge writes `n`
 * questions the answer would answer and flags a noncommittal answer ("I don't know"); the score is the
 * mean cosine similarity between the original question's embedding and each generated question's, and
 * 0 when the answer is noncommittal. Negative similarities are floored at 0.
 */
import { z } from 'zod';
import { askJudgeJson } from './judge-json.ts';
import { jsonOnly, questionFor, type RagJudgeOptions, verdictBit } from './rag-common.ts';
import { type EmbedFn, isScoreError, type Scorer } from './scorer.ts';
import { cosineSimilarity, embedAll } from './semantic.ts';

export interface AnswerRelevancyOptions extends RagJudgeOptions {
  embed: EmbedFn;
  /** How many questions the judge generates (RAGAS's strictness; default 3). */
  questions?: number;
}

const PROMPT = (n: number) =>
  `Write ${n} different questions that the given answer answers, as a user would have asked them. Also say whether the answer is noncommittal: 1 if it is evasive, vague or ambiguous (for example "I don't know" or "I'm not sure"), 0 if it commits to an answer.`;

/** @example answerRelevancy({ judge, embed, questions: 3 }) */
export function answerRelevancy(options: AnswerRelevancyOptions): Scorer {
  const name = options.name ?? 'answer-relevancy';
  const n = options.questions ?? 3;
  const schema = z.strictObject({
    questions: z.array(z.string().min(1)).length(n, `must hold exactly ${n} questions`),
    noncommittal: verdictBit,
  });
  return {
    name,
    kind: 'judged',
    async score(ctx) {
      const question = questionFor(ctx);
      if (isScoreError(question)) return question;
      const generated = await askJudgeJson(
        options.judge,
        [
          {
            role: 'user',
            content: `${PROMPT(n)}\n\nANSWER:\n${ctx.output}\n\n${jsonOnly(`{"questions": [${n} strings], "noncommittal": 0 or 1}`)}`,
          },
        ],
        schema,
        { step: `${name}: questions`, retries: options.retries, signal: ctx.signal },
      );
      if (!generated.ok) return { error: generated.error };
      if (generated.value.noncommittal === 1) return { value: 0, detail: 'the answer is noncommittal' };
      const [original, ...others] = await embedAll(
        options.embed,
        [question, ...generated.value.questions],
        ctx.signal,
      );
      const similarities = others.map((v) => cosineSimilarity(original!, v));
      const mean = similarities.reduce((a, b) => a + b, 0) / similarities.length;
      return {
        value: Math.max(0, Math.min(1, mean)),
        detail: `mean cosine ${mean.toFixed(4)} over: ${generated.value.questions.join(' | ')}`,
      };
    },
  };
}
