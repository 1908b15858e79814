/**
 * Faithfulness (RAGAS): the share of the answer's claims that the retrieved contexts support. The judge
 * first breaks the answer into standalone claims, then gives each a verdict (1 supported, 0 not) against
 * the contexts. Score = supported / total. An answer with no claims is an error, not a score.
 */
import { z } from 'zod';
import { questionOf } from '../case.ts';
import { askJudgeJson } from './judge-json.ts';
import { contextsFor, jsonOnly, numbered, type RagJudgeOptions, verdictBit } from './rag-common.ts';
import { isScoreError, type Scorer } from './scorer.ts';

const claimsSchema = z.strictObject({ statements: z.array(z.string()) });

const verdictsSchema = (count: number) =>
  z.strictObject({
    verdicts: z
      .array(z.strictObject({ statement: z.string(), reason: z.string(), verdict: verdictBit }))
      .length(count, `must have exactly ${count} verdicts, one per statement in order`),
  });

const CLAIMS_PROMPT = `Given a question and an answer, break the answer down into standalone statements. Each statement must be fully understandable without the others (replace pronouns with what they refer to) and carry one claim. Leave out no claim.`;

const VERDICT_PROMPT = `Judge the faithfulness of each statement to the context. For each statement, in the order given, give verdict 1 if the statement can be directly inferred from the context, and 0 if it cannot.`;

/** @example faithfulness({ judge }) */
export function faithfulness(options: RagJudgeOptions): Scorer {
  const name = options.name ?? 'faithfulness';
  return {
    name,
    kind: 'judged',
    async score(ctx) {
      const question = questionOf(ctx.evalCase);
      const contexts = contextsFor(ctx);
      if (isScoreError(contexts)) return contexts;
      const common = { retries: options.retries, signal: ctx.signal };

      const claims = await askJudgeJson(
        options.judge,
        [
          {
            role: 'user',
            content: `${CLAIMS_PROMPT}\n\n${question ? `QUESTION:\n${question}\n\n` : ''}ANSWER:\n${ctx.output}\n\n${jsonOnly('{"statements": ["...", "..."]}')}`,
          },
        ],
        claimsSchema,
        { ...common, step: `${name}: claims` },
      );
      if (!claims.ok) return { error: claims.error };
      const { statements } = claims.value;
      if (statements.length === 0) return { error: `${name}: the answer makes no claims to check` };

      const verdicts = await askJudgeJson(
        options.judge,
        [
          {
            role: 'user',
            content: `${VERDICT_PROMPT}\n\nCONTEXT:\n${numbered(contexts)}\n\nSTATEMENTS:\n${statements.map((s, i) => `${i + 1}. ${s}`).join('\n')}\n\n${jsonOnly('{"verdicts": [{"statement": "...", "reason": "...", "verdict": 0 or 1}]}')}`,
          },
        ],
        verdictsSchema(statements.length),
        { ...common, step: `${name}: verdicts` },
      );
      if (!verdicts.ok) return { error: verdicts.error };
      const unsupported = verdicts.value.verdicts.filter((v) => v.verdict === 0).map((v) => v.statement);
      const supported = statements.length - unsupported.length;
      const detail = `${supported}/${statements.length} claims supported${unsupported.length ? `; unsupported: ${unsupported.join(' | ')}` : ''}`;
      return { value: supported / statements.length, detail };
    },
  };
}
