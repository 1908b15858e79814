/**
 * Asking the judge model for strict JSON: the reply must be one JSON value (optionally inside a single
 * ``` fence) that the zod schema accepts. A reply that is not is answered with a corrective message
 * naming the problem, up to `retries` times; after that the caller gets `{ ok: false, error }`.
 */
import type { z } from 'zod';
import type { JudgeFn, JudgeMessage } from './scorer.ts';

export const DEFAULT_JUDGE_RETRIES = 2;

export type JudgeOutcome<T> = { ok: true; value: T; attempts: number } | { ok: false; error: string };

export interface AskJudgeOptions {
  retries?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Names the step in errors (e.g. `faithfulness: claims`). */
  step: string;
}

export async function askJudgeJson<T>(
  judge: JudgeFn,
  messages: JudgeMessage[],
  schema: z.ZodType<T>,
  options: AskJudgeOptions,
): Promise<JudgeOutcome<T>> {
  const retries = options.retries ?? DEFAULT_JUDGE_RETRIES;
  const conversation = [...messages];
  let problem = '';
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    let reply: string;
    try {
      reply = await judge(conversation, options.signal ? { signal: options.signal } : undefined);
    } catch (error) {
      return { ok: false, error: `${options.step}: judge call failed: ${(error as Error).message ?? error}` };
    }
    const parsed = parseStrict(reply, schema);
    if (parsed.ok) return { ok: true, value: parsed.value, attempts: attempt };
    problem = parsed.problem;
    conversation.push(
      { role: 'assistant', content: reply },
      {
        role: 'user',
        content: `Your reply could not be used: ${problem}. Reply again with only the JSON object in the format asked for, with no other text.`,
      },
    );
  }
  return {
    ok: false,
    error: `${options.step}: judge gave no valid JSON after ${retries + 1} attempts (last problem: ${problem})`,
  };
}

function parseStrict<T>(
  reply: string,
  schema: z.ZodType<T>,
): { ok: true; value: T } | { ok: false; problem: string } {
  if (typeof reply !== 'string') return { ok: false, problem: 'the reply is not text' };
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(reply.trim());
  const text = fenced ? fenced[1]! : reply.trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'it is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : 'the object';
  return { ok: false, problem: `${path}: ${issue.message}` };
}
