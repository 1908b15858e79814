/** Shared test helpers for the eval harness: cases, score contexts, a scripted judge and embedder. */
import type { EvalCase } from '../../src/evals/case.ts';
import type {
  EmbedFn,
  JudgeFn,
  JudgeMessage,
  ScoreContext,
  ScoreResult,
} from '../../src/evals/scorers/scorer.ts';

export function evalCase(overrides: Partial<EvalCase> = {}): EvalCase {
  return {
    id: 'c1',
    input: { messages: [{ role: 'user', content: 'What is the capital of France?' }] },
    ...overrides,
  };
}

export function ctx(overrides: Partial<ScoreContext> = {}): ScoreContext {
  return { evalCase: evalCase(), output: '', latencyMs: 100, ...overrides };
}

/** A judge that answers with the given replies in order, recording every conversation it was sent. */
export function scriptedJudge(replies: readonly string[]): JudgeFn & { calls: JudgeMessage[][] } {
  const queue = [...replies];
  const calls: JudgeMessage[][] = [];
  const judge = async (messages: JudgeMessage[]) => {
    calls.push(messages.map((m) => ({ ...m })));
    const reply = queue.shift();
    if (reply === undefined) throw new Error(`scripted judge ran out of replies after ${calls.length - 1}`);
    return reply;
  };
  return Object.assign(judge, { calls });
}

/** An embedder that looks each text up in a table (so similarities are known by construction). */
export function tableEmbed(table: Record<string, number[]>): EmbedFn {
  return async (texts) =>
    texts.map((text) => {
      const vector = table[text];
      if (!vector) throw new Error(`no embedding for "${text}"`);
      return vector;
    });
}

export function scoreValue(result: ScoreResult): number {
  if ('error' in result) throw new Error(`expected a score, got error: ${result.error}`);
  return result.value;
}
