/**
 * A feature as declared in keel.yaml (`features.NAME`): the zod schema, its inferred types, and the
 * compile step that turns a declaration into a runnable one (its JSON Schema compiled by ajv once).
 * Problems are reported as `features.NAME.path: problem`, like every other config error.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPlugin, { type FormatsPlugin } from 'ajv-formats';
import { z } from 'zod';
import { KeelError } from '../core/errors.ts';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = (addFormatsPlugin as unknown as { default: FormatsPlugin }).default;

export const FEATURE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const percent = z.number().min(0).max(100);

const inlineMessageSchema = z.strictObject({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.string(),
});

const fallbackSchema = z.union([
  z.strictObject({ route: z.string().min(1).describe('another (safer) route; its answer is validated too') }),
  z.strictObject({ cached: z.literal(true).describe('the last valid answer for the same input') }),
  z.strictObject({ clarify: z.string().min(1).describe('a clarifying question returned as the output') }),
  z.strictObject({ escalate: z.literal(true).describe('enqueue for human review; the caller gets a 202') }),
]);

const contractSchema = z.union([
  z.literal('text'),
  z.strictObject({
    schema: z.record(z.string(), z.unknown()).describe('JSON Schema the answer must validate against'),
    strict: z
      .boolean()
      .default(true)
      .describe('true: the answer is exactly JSON and the provider is asked for strict structured output'),
  }),
]);

export const featureConfigSchema = z
  .strictObject({
    description: z.string().optional(),
    owner: z.string().optional(),
    prompt: z
      .strictObject({
        name: z.string().min(1),
        label: z.string().min(1).default('production'),
      })
      .optional()
      .describe('a prompt of the registry, by name and label'),
    messages: z.array(inlineMessageSchema).min(1).optional().describe('an inline prompt instead of `prompt`'),
    route: z.string().min(1),
    contract: contractSchema.default('text'),
    retries: z.number().int().min(0).max(5).default(2),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(60_000)
      .describe(
        'the whole call: attempts, retries and fallbacks; each route call keeps its own deadline too',
      ),
    fallback: z.array(fallbackSchema).default([]).describe('tried in this order once retries are spent'),
    guards: z.record(z.string(), z.unknown()).optional().describe('passed as is to the guards'),
    release: z
      .strictObject({
        canary: z
          .strictObject({ percent, by: z.enum(['user', 'session']).default('user') })
          .optional()
          .describe('this share of users (or sessions) gets the `canary` label, stickily'),
        shadow: z
          .strictObject({ percent, label: z.string().min(1).optional(), route: z.string().min(1).optional() })
          .refine((s) => s.label !== undefined || s.route !== undefined, {
            message: 'give the candidate: a prompt `label`, a `route`, or both',
          })
          .optional()
          .describe('this share of requests also runs the candidate in the background'),
      })
      .optional(),
    evals: z
      .strictObject({
        refusal: z.boolean().default(true).describe('score 0 when the answer refuses'),
        maxLatencyMs: z.number().positive().optional().describe('score 0 above this latency'),
        maxCostUsd: z.number().positive().optional().describe('score 0 above this cost'),
        length: z
          .strictObject({
            min: z.number().int().min(0).optional(),
            max: z.number().int().positive().optional(),
          })
          .optional()
          .describe('answer length bounds, in characters'),
        judge: z
          .strictObject({
            route: z.string().min(1),
            rubric: z.string().min(1).describe('what a good answer is, for the judge (scores 1..5)'),
            sample: z.number().min(0).max(1).default(0.1).describe('share of requests judged'),
          })
          .optional()
          .describe('LLM-as-judge on a sample, off the request path'),
      })
      .optional()
      .describe(
        'online evaluation: heuristics on every request, a judge on a sample; scores go on the trace',
      ),
    placeholders: z
      .enum(['restore', 'keep'])
      .default('restore')
      .describe('redacted input placeholders in the answer: put the originals back, or keep them'),
  })
  .superRefine((feature, ctx) => {
    if ((feature.prompt === undefined) === (feature.messages === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: feature.prompt === undefined ? [] : ['messages'],
        message: 'declare exactly one of `prompt` (registry name and label) or inline `messages`',
      });
    }
    if (feature.release?.canary !== undefined && feature.prompt === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['release', 'canary'],
        message: 'a canary needs a registry `prompt` with a `canary` label; an inline prompt has no labels',
      });
    }
    if (feature.release?.shadow?.label !== undefined && feature.prompt === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['release', 'shadow', 'label'],
        message: 'a shadow label needs a registry `prompt`; an inline prompt has no labels',
      });
    }
  });

export const featuresSchema = z.record(
  z.string().regex(FEATURE_NAME, 'a feature name is letters, digits, ".", "_" or "-" (at most 64)'),
  featureConfigSchema,
);

export type FeatureConfig = z.infer<typeof featureConfigSchema>;
export type FeatureConfigInput = z.input<typeof featureConfigSchema>;
export type FallbackStep = FeatureConfig['fallback'][number];
export type Contract = FeatureConfig['contract'];
export type JsonContract = Exclude<Contract, 'text'>;
export type InlineMessage = z.infer<typeof inlineMessageSchema>;

/** A declared feature, ready to run: its JSON Schema (if any) compiled. */
export interface CompiledFeature {
  name: string;
  config: FeatureConfig;
  /** Present exactly when the contract is a JSON Schema. */
  validate?: ValidateFunction;
}

export interface FeatureProblem {
  path: string;
  problem: string;
}

/**
 * Compiles every feature's JSON Schema (one ajv per catalogue, so a reload does not grow an old
 * one). An invalid schema is a config error naming `features.NAME.contract.schema`.
 */
export function compileFeatures(features: Record<string, FeatureConfig>): Map<string, CompiledFeature> {
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, logger: false });
  addFormats(ajv);
  const compiled = new Map<string, CompiledFeature>();
  const problems: FeatureProblem[] = [];
  for (const [name, config] of Object.entries(features)) {
    if (config.contract === 'text') {
      compiled.set(name, { name, config });
      continue;
    }
    try {
      compiled.set(name, { name, config, validate: ajv.compile(config.contract.schema) });
    } catch (err) {
      problems.push({
        path: `features.${name}.contract.schema`,
        problem: `not a valid JSON Schema: ${(err as Error).message}`,
      });
    }
  }
  if (problems.length > 0) {
    throw new KeelError('KEEL_CONFIG_INVALID', problems.map((p) => `${p.path}: ${p.problem}`).join('; '), {
      param: problems[0]!.path,
    });
  }
  return compiled;
}

/** References zod cannot check: every route a feature names must be a route of the config. */
export function featureReferenceProblems(
  features: Record<string, FeatureConfig>,
  routes: ReadonlySet<string>,
): FeatureProblem[] {
  const problems: FeatureProblem[] = [];
  const known = [...routes].map((r) => `"${r}"`).join(', ');
  const check = (route: string, path: string) => {
    if (!routes.has(route)) problems.push({ path, problem: `unknown route "${route}"; routes: ${known}` });
  };
  for (const [name, feature] of Object.entries(features)) {
    check(feature.route, `features.${name}.route`);
    feature.fallback.forEach((step, i) => {
      if ('route' in step) check(step.route, `features.${name}.fallback[${i}].route`);
    });
    const judgeRoute = feature.evals?.judge?.route;
    if (judgeRoute !== undefined) check(judgeRoute, `features.${name}.evals.judge.route`);
    const shadowRoute = feature.release?.shadow?.route;
    if (shadowRoute !== undefined) check(shadowRoute, `features.${name}.release.shadow.route`);
  }
  return problems;
}
