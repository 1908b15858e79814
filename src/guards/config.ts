/**
 * The `guards` configuration as a zod schema (for the lead to plug into keel.yaml's schema) and
 * `buildGuards`, which turns a parsed config into Guard objects.
 *
 * guards:
 *   input:
 *     - { type: pii, action: redact }                      # redact | block | flag
 *     - { type: injection, action: block, threshold: 0.5 } # block | redact | flag
 *     - { type: denylist, action: block, terms: [acme-internal, { pattern: 'proj-\d+', regex: true, label: project code }] }
 *     - { type: topics, action: block, allowed: { billing: [invoice, refund*] }, denied: { legal: [lawsuit] } }
 *   output:
 *     - { type: pii, action: redact }
 *     - { type: denylist, action: redact, terms: [competitorco] }
 */
import { z } from 'zod';
import { ENTITY_TYPES } from '../telemetry/redaction.ts';
import { denylistGuard } from './denylist-guard.ts';
import { INJECTION_THRESHOLD } from './injection/detect.ts';
import { injectionGuard } from './injection-guard.ts';
import { piiGuard } from './pii-guard.ts';
import { type CompiledTerm, compileTerm, TermError, type TermSpec } from './terms.ts';
import { topicsGuard } from './topics-guard.ts';
import type { Guard, GuardStage } from './types.ts';

const name = z.string().min(1).optional().describe('name in verdicts and traces; default the type');
const roles = z
  .array(z.enum(['system', 'developer', 'user', 'assistant', 'tool']))
  .nonempty()
  .optional()
  .describe('message roles the guard reads');

const term = z.union([
  z.string().min(1),
  z.strictObject({
    pattern: z.string().min(1),
    regex: z.boolean().optional().describe('treat `pattern` as a regular expression'),
    label: z.string().min(1).optional().describe('how reasons name this term'),
    wholeWord: z
      .boolean()
      .optional()
      .describe('regex only: require word boundaries around it (default true)'),
  }),
]);

/** A list of terms, each checked to compile, so a bad regex fails config validation with its path. */
const termList = z
  .array(term)
  .nonempty()
  .superRefine((terms, ctx) => {
    terms.forEach((t, i) => {
      try {
        compileTerm(t, i);
      } catch (err) {
        if (!(err instanceof TermError)) throw err;
        ctx.addIssue({ code: 'custom', path: [i], message: err.message });
      }
    });
  });

const topicMap = z.record(z.string().min(1), termList).describe('topic name → keywords');

const piiSchema = z.strictObject({
  type: z.literal('pii'),
  name,
  action: z.enum(['redact', 'block', 'flag']).default('redact'),
  entities: z
    .array(z.enum(ENTITY_TYPES))
    .nonempty()
    .optional()
    .describe('entity types to act on; default all'),
  roles,
});

const injectionSchema = z.strictObject({
  type: z.literal('injection'),
  name,
  action: z.enum(['block', 'redact', 'flag']).default('block'),
  threshold: z.number().min(0).max(1).default(INJECTION_THRESHOLD),
  roles,
  classifier: z
    .strictObject({
      route: z.string().min(1).describe('a route whose model answers {"injection": true|false}'),
      above: z
        .number()
        .min(0)
        .max(1)
        .default(0.2)
        .describe('ask the model about texts the local detector scores at least this, but below threshold'),
    })
    .optional()
    .describe('a second opinion from a model, for texts the local detector is unsure about'),
});

const denylistSchema = z.strictObject({
  type: z.literal('denylist'),
  name,
  action: z.enum(['block', 'redact', 'flag']).default('block'),
  terms: termList,
  replacement: z.string().default('[redacted]'),
  roles,
});

const topicsSchema = z
  .strictObject({
    type: z.literal('topics'),
    name,
    action: z.enum(['block', 'flag']).default('block'),
    allowed: topicMap.optional(),
    denied: topicMap.optional(),
    roles,
  })
  .refine((t) => t.allowed !== undefined || t.denied !== undefined, {
    message: 'a topics guard needs `allowed` or `denied` topics',
  });

/** Guard names must be unique within a stage: verdicts and traces are keyed by them. */
function uniqueNames(
  list: ReadonlyArray<{ type: string; name?: string | undefined }>,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  list.forEach((g, i) => {
    const n = g.name ?? g.type;
    if (seen.has(n)) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `another guard of this stage is already named "${n}"; give each a distinct \`name\``,
      });
    }
    seen.add(n);
  });
}

export const guardsConfigSchema = z
  .strictObject({
    input: z
      .array(z.discriminatedUnion('type', [piiSchema, injectionSchema, denylistSchema, topicsSchema]))
      .default([])
      .superRefine(uniqueNames),
    output: z
      .array(z.discriminatedUnion('type', [piiSchema, denylistSchema, topicsSchema]))
      .default([])
      .superRefine(uniqueNames),
  })
  .describe('guardrails run on requests (input) and answers (output), in order');

export type GuardsConfig = z.infer<typeof guardsConfigSchema>;
type GuardConfig = GuardsConfig['input'][number];

const compileTerms = (terms: readonly TermSpec[]): CompiledTerm[] => terms.map((t, i) => compileTerm(t, i));
const compileTopics = (topics: Record<string, TermSpec[]> | undefined) =>
  topics === undefined ? undefined : new Map(Object.entries(topics).map(([k, v]) => [k, compileTerms(v)]));

/** Optional fields copied only when set (exactOptionalPropertyTypes). */
function common(g: GuardConfig) {
  return { ...(g.name !== undefined && { name: g.name }), ...(g.roles !== undefined && { roles: g.roles }) };
}

function build(g: GuardConfig, stage: GuardStage): Guard {
  switch (g.type) {
    case 'pii':
      return piiGuard({ ...common(g), stage, action: g.action, ...(g.entities && { entities: g.entities }) });
    case 'injection':
      return injectionGuard({ ...common(g), action: g.action, threshold: g.threshold });
    case 'denylist':
      return denylistGuard({
        ...common(g),
        stage,
        action: g.action,
        terms: compileTerms(g.terms),
        replacement: g.replacement,
      });
    case 'topics': {
      const allowed = compileTopics(g.allowed);
      const denied = compileTopics(g.denied);
      return topicsGuard({
        ...common(g),
        stage,
        action: g.action,
        ...(allowed && { allowed }),
        ...(denied && { denied }),
      });
    }
  }
}

/** The guards of a parsed (`guardsConfigSchema.parse`d) config, per stage, in configured order. */
export function buildGuards(config: GuardsConfig): { input: Guard[]; output: Guard[] } {
  return {
    input: config.input.map((g) => build(g, 'input')),
    output: config.output.map((g) => build(g, 'output')),
  };
}
