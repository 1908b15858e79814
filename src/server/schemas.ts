import { z } from 'zod';
import { formatPath } from '../config/interpolate.ts';
import { KeelError } from '../core/errors.ts';
import type { ChatRequest, EmbeddingRequest } from '../core/types.ts';

/**
 * Request shapes. Unknown fields pass through to the upstream (OpenAI adds parameters often); known
 * fields are type-checked strictly — a wrong type is a 400 naming the field, never coerced.
 */

const contentPart = z.looseObject({ type: z.string() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z
    .array(
      z.looseObject({
        id: z.string(),
        type: z.literal('function'),
        function: z.looseObject({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
});

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const chatRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(message).min(1, 'must contain at least one message'),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
    max_completion_tokens: z.number().int().positive().max(1_000_000).optional(),
    n: z.number().int().min(1).max(1, 'only n=1 is supported by the gateway').optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    seed: z.number().int().optional(),
    user: z.string().max(256).optional(),
    tools: z.array(tool).max(128).optional(),
    tool_choice: z
      .union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.literal('function') })])
      .optional(),
    response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  })
  .superRefine((req, ctx) => {
    req.messages.forEach((m, i) => {
      if (m.role === 'tool' && m.tool_call_id === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['messages', i, 'tool_call_id'],
          message: 'required for role "tool"',
        });
      }
      if (m.content === undefined && m.role !== 'assistant') {
        ctx.addIssue({ code: 'custom', path: ['messages', i, 'content'], message: 'required' });
      }
    });
  });

export const embeddingRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, 'must not be empty').max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().max(8192).optional(),
  user: z.string().max(256).optional(),
});

function describe(issue: z.core.$ZodIssue, body: unknown): string {
  const path = formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    const value = issue.path.reduce<unknown>(
      (node, key) =>
        node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
      body,
    );
    if (value === undefined) return `${path}: required (expected ${issue.expected})`;
    if (typeof value === 'number' && !Number.isFinite(value)) return `${path}: must be a finite number`;
    const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return `${path}: expected ${issue.expected}, got ${got}`;
  }
  if (issue.code === 'invalid_union') return `${path}: has the wrong type or shape`;
  if (issue.code === 'unrecognized_keys') return `${path}: unknown field(s) ${issue.keys.join(', ')}`;
  return `${path}: ${issue.message}`;
}

const MAX_DEPTH = 64;

/** How deeply a JSON value nests, counted without recursion (a hostile body cannot overflow the stack). */
function tooDeep(value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_DEPTH) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Validate a parsed JSON body; a failure is a 400 whose message names every bad field. */
export function parseBody<T>(schema: z.ZodType, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new KeelError('KEEL_INVALID_REQUEST', 'request body must be a JSON object');
  }
  if (tooDeep(body)) {
    throw new KeelError('KEEL_INVALID_REQUEST', `request body nests deeper than ${MAX_DEPTH} levels`);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data as T;
  const issues = result.error.issues.slice(0, 5);
  const first = issues[0];
  throw new KeelError('KEEL_INVALID_REQUEST', issues.map((i) => describe(i, body)).join('; '), {
    ...(first ? { param: formatPath(first.path) } : {}),
  });
}

export const parseChatRequest = (body: unknown) => parseBody<ChatRequest>(chatRequestSchema, body);
export const parseEmbeddingRequest = (body: unknown) =>
  parseBody<EmbeddingRequest>(embeddingRequestSchema, body);
