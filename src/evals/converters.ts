/**
 * Turns production material into eval cases: a stored trace (what was asked, what was answered) and a
 * line exported from human review (input, the corrected answer, its context, tags).
 */
import { z } from 'zod';
import { canonicalJson, shortHash } from './canonical-json.ts';
import { type EvalCase, evalCaseSchema, messageSchema, messageText } from './case.ts';
import { describeIssues, KeelEvalError } from './errors.ts';

/**
 * The part of a Keel trace a case needs. `request` is the chat request (`{ messages: [...] }`);
 * `response` is the chat completion (`choices[0].message.content` is read), or the answer text itself,
 * or `{ text }`. Stored traces hold bodies as the route's body policy left them (redacted by default).
 */
export interface TraceLike {
  id: string;
  request?: unknown;
  response?: unknown;
  route?: string;
  feature?: string;
}

/**
 * A case whose input is the trace's request messages and whose `expected` is the answer the trace got.
 * Tags: `trace`, `route:NAME`, `feature:NAME` when known, plus `options.tags`.
 * @throws KeelEvalError KEEL_EVAL_DATASET_INVALID when the trace has no request messages or no answer.
 * @example caseFromTrace(await store.get('req_123'), { tags: ['regression'] })
 */
export function caseFromTrace(trace: TraceLike, options: { id?: string; tags?: string[] } = {}): EvalCase {
  const where = `trace ${trace.id}`;
  const messages = z.array(messageSchema).safeParse(field(trace.request, 'messages'));
  if (!messages.success)
    throw invalid(
      `${where}: request.messages is missing or invalid (was the body dropped by the body policy?)`,
    );
  const answer = responseText(trace.response);
  if (answer === undefined)
    throw invalid(`${where}: response has no answer text (choices[0].message.content, a string, or text)`);
  const tags = ['trace', ...(trace.route ? [`route:${trace.route}`] : [])];
  if (trace.feature) tags.push(`feature:${trace.feature}`);
  return checked(
    { id: options.id ?? `trace-${trace.id}`, input: { messages: messages.data }, expected: answer, tags },
    where,
    options.tags,
  );
}

const reviewLineSchema = z.looseObject({
  id: z.string().min(1).optional(),
  input: z.union([z.string(), z.array(messageSchema), z.record(z.string(), z.unknown())], {
    error: 'must be a string, an array of messages or { variables?, messages? }',
  }),
  expected: z.unknown().optional(),
  reference: z.string().optional(),
  context: z.union([z.string(), z.array(z.string())]).optional(),
  contexts: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
});

/**
 * A case from one exported review line `{ id?, input, expected?, reference?, context? | contexts?, tags? }`
 * (the review queue's golden export is this shape). `input` may be the user's text (becomes one user
 * message), a message array, or `{ variables?, messages? }`; `context` (a string or strings) becomes
 * `contexts`; an `expected` that is neither text nor an object (a number, a list) becomes its JSON text.
 * Without `id`, the id is `review-` plus a hash of the input, so re-exporting the same review gives the
 * same case.
 */
export function caseFromReview(line: unknown, options: { tags?: string[] } = {}): EvalCase {
  const parsed = reviewLineSchema.safeParse(line);
  if (!parsed.success) throw invalid(describeIssues(parsed.error.issues, 'review line'));
  const review = parsed.data;
  const input =
    typeof review.input === 'string'
      ? { messages: [{ role: 'user' as const, content: review.input }] }
      : Array.isArray(review.input)
        ? { messages: review.input }
        : review.input;
  const draft: Record<string, unknown> = {
    id: review.id ?? `review-${shortHash(canonicalJson(input))}`,
    input,
    tags: ['review', ...(review.tags ?? [])],
  };
  if (review.expected !== undefined && review.expected !== null) draft.expected = asExpected(review.expected);
  if (review.reference !== undefined) draft.reference = review.reference;
  const contexts = review.contexts ?? review.context;
  if (contexts !== undefined) draft.contexts = typeof contexts === 'string' ? [contexts] : contexts;
  return checked(draft, `review line ${String(draft.id)}`, options.tags);
}

function asExpected(value: unknown): string | Record<string, unknown> {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  return JSON.stringify(value);
}

function checked(draft: Record<string, unknown>, where: string, extraTags: string[] | undefined): EvalCase {
  const tags = [...new Set([...((draft.tags as string[]) ?? []), ...(extraTags ?? [])])];
  const parsed = evalCaseSchema.safeParse({ ...draft, tags });
  if (!parsed.success) throw invalid(describeIssues(parsed.error.issues, where));
  return parsed.data;
}

function responseText(response: unknown): string | undefined {
  if (typeof response === 'string') return response;
  const text = field(response, 'text');
  if (typeof text === 'string') return text;
  const choices = field(response, 'choices');
  if (!Array.isArray(choices)) return undefined;
  const message = field(choices[0], 'message');
  if (!message || typeof message !== 'object') return undefined;
  const content = messageText(message as { content: unknown });
  return content === '' ? undefined : content;
}

function field(value: unknown, name: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
}

function invalid(message: string): KeelEvalError {
  return new KeelEvalError('KEEL_EVAL_DATASET_INVALID', message);
}
