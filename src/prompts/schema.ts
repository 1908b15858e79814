/**
 * The prompt file format (YAML or the same shape as JSON), validated once at push:
 *
 *   name: support-reply
 *   description: First answer to a support ticket
 *   variables:
 *     customer_name: { type: string, maxLength: 100 }
 *     tone: { type: enum, values: [formal, friendly], default: friendly }
 *   messages:
 *     - { role: system, content: "Answer in a {{tone}} tone." }
 *     - { role: user, content: "{{customer_name}} asks: {{question}}" }
 *   params: { temperature: 0.2, max_tokens: 400 }
 *
 * Every problem is reported as `path: problem` (e.g. `variables.tone.values: required for type enum`),
 * and every placeholder must name a declared variable.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { PromptFileError } from './errors.ts';
import { placeholders } from './template.ts';
import { describeValue, VARIABLE_TYPES, type VariableSpec, variableProblem } from './variables.ts';

export const PROMPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_SOURCE_CHARS = 256 * 1024;

const variableSchema = z
  .strictObject({
    type: z.enum(VARIABLE_TYPES),
    description: z.string().max(1000).optional(),
    values: z.array(z.string()).min(1).max(200).optional(),
    required: z.boolean().optional(),
    default: z.json().optional(),
    maxLength: z.number().int().positive().optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (v.type === 'enum' && v.values === undefined) issue('values', 'required for type enum');
    if (v.type !== 'enum' && v.values !== undefined) issue('values', 'only allowed for type enum');
    if (v.maxLength !== undefined && v.type !== 'string' && v.type !== 'array') {
      issue('maxLength', 'only allowed for type string or array');
    }
    if (v.default !== undefined && v.required === true) {
      issue('required', 'a variable with a default is not required; drop one of the two');
    }
    if (v.default !== undefined) {
      const problem = variableProblem({ ...v, required: false }, v.default);
      if (problem) issue('default', problem);
    }
  })
  .transform(
    (v): VariableSpec => ({
      type: v.type,
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v.values !== undefined ? { values: v.values } : {}),
      required: v.required ?? v.default === undefined,
      ...(v.default !== undefined ? { default: v.default } : {}),
      ...(v.maxLength !== undefined ? { maxLength: v.maxLength } : {}),
    }),
  );

const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().min(1, 'must not be empty').max(100_000),
});

const paramsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  max_tokens: z.number().int().positive().max(1_000_000).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
  response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional(),
});

export const promptSchema = z
  .strictObject({
    name: z
      .string()
      .regex(PROMPT_NAME, '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
    description: z.string().max(1000).optional(),
    variables: z
      .record(z.string().regex(VARIABLE_NAME, 'variable names are letters, digits and "_"'), variableSchema)
      .default({}),
    messages: z.array(messageSchema).min(1, 'at least one message').max(100),
    params: paramsSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const declared = Object.keys(p.variables);
    p.messages.forEach((m, i) => {
      for (const { raw, path } of placeholders(m.content)) {
        const at = ['messages', i, 'content'];
        if (path === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `${raw} is not a variable reference (write {{name}} or {{name.field}})`,
          });
          continue;
        }
        const spec = p.variables[path[0]!];
        if (!spec) {
          const known = declared.length === 0 ? 'none are declared' : `declared: ${declared.join(', ')}`;
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `${raw} uses undeclared variable "${path[0]}" (${known})`,
          });
        } else if (path.length > 1 && spec.type !== 'object') {
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `${raw} reads a field of "${path[0]}", which is a ${spec.type}, not an object`,
          });
        }
      }
    });
  });

export type PromptDefinition = z.output<typeof promptSchema>;
/** Everything but the name: what a version id hashes. */
export type PromptBody = Omit<PromptDefinition, 'name'>;
export type PromptMessage = PromptDefinition['messages'][number];
export type PromptParams = NonNullable<PromptDefinition['params']>;

/** `a.b[0].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const value = valueAt(input, issue.path);
      if (value === undefined) return `${path}: required (expected ${issue.expected})`;
      return `${path}: expected ${issue.expected}, got ${describeValue(value)}`;
    }
    case 'invalid_value':
      return `${path}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `${path}: unknown field(s) ${issue.keys.join(', ')}`;
    case 'invalid_key':
      return `${path}: ${issue.issues[0]?.message ?? 'invalid name'}`;
    case 'too_big':
    case 'too_small': {
      // Custom messages ("must not be empty") stay; zod's generic ones are rewritten plainly.
      if (!/^Too (big|small)/.test(issue.message)) return `${path}: ${issue.message}`;
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      const bound = issue.code === 'too_big' ? `at most ${issue.maximum}` : `at least ${issue.minimum}`;
      return `${path}: must be ${bound}${unit}`;
    }
    default:
      return `${path}: ${issue.message}`;
  }
}

/** Validate an already-parsed prompt (from JSON or YAML). Throws PromptFileError listing every problem. */
export function parsePromptObject(input: unknown, source?: string): PromptDefinition {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new PromptFileError(['(root): expected a mapping with name, variables and messages'], source);
  }
  const result = promptSchema.safeParse(input);
  if (!result.success) {
    throw new PromptFileError(
      result.error.issues.slice(0, 20).map((i) => describeIssue(i, input)),
      source,
    );
  }
  // A JSON round trip drops undefined keys: the stored body, its hash and its YAML all agree.
  return JSON.parse(JSON.stringify(result.data)) as PromptDefinition;
}

/** Parse and validate a YAML (or JSON, which is YAML) prompt file. */
export function parsePromptFile(text: string, source?: string): PromptDefinition {
  if (text.length > MAX_SOURCE_CHARS) {
    throw new PromptFileError([`(root): larger than ${MAX_SOURCE_CHARS} characters`], source);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new PromptFileError(
      doc.errors.slice(0, 5).map((e) => {
        const at = e.linePos?.[0];
        const where = at ? `line ${at.line}, column ${at.col}` : '(root)';
        return `${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
      source,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PromptFileError([`(root): ${(err as Error).message}`], source);
  }
  return parsePromptObject(value, source);
}
