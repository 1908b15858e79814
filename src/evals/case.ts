/**
 * One eval case: what the model is asked (`input`), what a good answer is (`expected`, `reference`),
 * the retrieval contexts it may use and free-form tags. The zod schema is the single definition.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/types.ts';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

/** An OpenAI chat message, checked only as far as the harness reads it. */
export const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool'], {
    error: 'must be one of system, developer, user, assistant, tool',
  }),
  content: z.union([z.string(), z.array(contentPart), z.null()], {
    error: 'must be a string, an array of content parts or null',
  }),
});

export const evalCaseSchema = z.strictObject({
  id: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string'),
  input: z
    .strictObject({
      variables: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
      messages: z.array(messageSchema, { error: 'must be an array of messages' }).optional(),
    })
    .refine((input) => input.variables !== undefined || input.messages !== undefined, {
      message: 'needs `variables` or `messages`',
    }),
  expected: z
    .union([z.string(), z.record(z.string(), z.unknown())], { error: 'must be a string or an object' })
    .optional(),
  reference: z.string({ error: 'must be a string' }).optional(),
  contexts: z.array(z.string(), { error: 'must be an array of strings' }).optional(),
  tags: z.array(z.string(), { error: 'must be an array of strings' }).optional(),
});

export type EvalCase = z.infer<typeof evalCaseSchema>;

/** The text of a message's content: strings as they are, text parts joined. */
export function messageText(message: Pick<ChatMessage, 'content'> | { content: unknown }): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : '',
    )
    .filter(Boolean)
    .join('\n');
}

const QUESTION_VARIABLES = ['question', 'query', 'input', 'prompt'];

/**
 * The question a case asks, for metrics that need one (answer relevancy, the RAG judges): the last user
 * message, else the first of the `question`, `query`, `input`, `prompt` variables that is a string.
 */
export function questionOf(evalCase: EvalCase): string | undefined {
  const users = (evalCase.input.messages ?? []).filter((m) => m.role === 'user');
  const last = users.at(-1);
  if (last) return messageText(last);
  for (const name of QUESTION_VARIABLES) {
    const value = evalCase.input.variables?.[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}
