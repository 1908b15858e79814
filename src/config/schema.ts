import { z } from 'zod';
import { featuresSchema } from '../features/config.ts';

/**
 * keel.yaml, as zod schemas: the single source of truth for the config's shape, its defaults and its
 * types. Cross-references (a target's model, a model's provider) are checked in `validate.ts`.
 */

const ms = (what: string) => z.number().int().positive().describe(what);
const rate = z.number().min(0).max(1);

const distribution = z.strictObject({
  p50: z.number().nonnegative(),
  p99: z.number().nonnegative(),
});

export const simulateSchema = z
  .strictObject({
    ttftMs: distribution.default({ p50: 50, p99: 200 }).describe('time to first token, log-normal'),
    tokensPerSecond: z.number().positive().default(200),
    reply: z.string().optional().describe('fixed answer text; default echoes the last user message'),
    outputTokens: z.number().int().positive().default(24),
    faults: z
      .strictObject({
        errorRate: rate.default(0),
        errorStatuses: z.array(z.number().int().min(400).max(599)).nonempty().default([500, 503]),
        rateLimitRate: rate.default(0),
        retryAfterMs: z.number().int().nonnegative().default(1000),
        hangRate: rate.default(0),
        malformedRate: rate.default(0),
        cutStreamRate: rate.default(0),
        cutAfterChunks: z.number().int().nonnegative().default(3),
      })
      .default({
        errorRate: 0,
        errorStatuses: [500, 503],
        rateLimitRate: 0,
        retryAfterMs: 1000,
        hangRate: 0,
        malformedRate: 0,
        cutStreamRate: 0,
        cutAfterChunks: 3,
      }),
  })
  .describe('behaviour of a simulated model');

export const bodyPolicySchema = z
  .enum(['redact', 'hash', 'drop'])
  .describe('what a stored trace keeps of request/response bodies: PII redacted, PII hashed, or nothing');

export const providerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('openai'),
    baseUrl: z.url(),
    apiKeyEnv: z.string().optional().describe('name of the environment variable holding the API key'),
    apiKey: z
      .string()
      .optional()
      .describe('the key itself; write it as an interpolated environment variable'),
    authHeader: z
      .string()
      .default('authorization')
      .describe('"authorization" sends "Bearer KEY"; any other name (Azure: "api-key") sends the key as is'),
    headers: z.record(z.string(), z.string()).default({}),
    query: z.record(z.string(), z.string()).default({}).describe('query parameters, e.g. Azure api-version'),
    maxConnections: z.number().int().positive().default(128),
  }),
  z.strictObject({
    type: z.literal('anthropic'),
    baseUrl: z.url().default('https://api.anthropic.com'),
    apiKeyEnv: z.string().optional(),
    apiKey: z.string().optional(),
    version: z.string().default('2023-06-01'),
    headers: z.record(z.string(), z.string()).default({}),
    maxConnections: z.number().int().positive().default(128),
  }),
  z.strictObject({
    type: z.literal('simulated'),
  }),
]);

export const pricingSchema = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cachedInputPerMTok: z.number().nonnegative().optional(),
});

export const breakerSchema = z.strictObject({
  failureRate: z
    .number()
    .gt(0)
    .lt(1, 'must be below 1 (a breaker that opens only at 100% failures never opens)')
    .default(0.5)
    .describe('share of failed calls in the window that opens'),
  window: z.number().int().positive().default(20).describe('calls in the sliding window'),
  minCalls: z.number().int().positive().default(10).describe('calls needed before it may open'),
  openMs: ms('how long it stays open before a half-open probe').default(5000),
});

export const modelSchema = z.strictObject({
  provider: z.string(),
  model: z.string().describe('the upstream model name'),
  pricing: pricingSchema.optional(),
  contextWindow: z.number().int().positive().optional(),
  breaker: breakerSchema.partial().optional(),
  simulate: simulateSchema.optional(),
});

export const retrySchema = z.strictObject({
  max: z.number().int().min(0).max(10).default(1).describe('retries of this target before falling back'),
  baseDelayMs: z.number().int().nonnegative().default(100),
  maxDelayMs: z.number().int().nonnegative().default(2000),
});

export const targetSchema = z.strictObject({
  model: z.string(),
  timeoutMs: ms(
    'total time one attempt may take; default the smaller of 30 s and the route deadline',
  ).optional(),
  firstTokenTimeoutMs: ms('time to first token (streams) or to response headers').optional(),
  stallTimeoutMs: ms('longest silence between stream chunks').default(15_000),
  retry: retrySchema.default({ max: 1, baseDelayMs: 100, maxDelayMs: 2000 }),
  weight: z.number().positive().default(1),
  rank: z.number().int().nonnegative().optional().describe('targets of equal rank share load by weight'),
});

export const routeSchema = z.strictObject({
  description: z.string().optional(),
  deadlineMs: ms('end-to-end deadline of a request').default(60_000),
  hedgeAfterMs: ms('latency threshold: start the next target if no first token by then').optional(),
  retryBudget: z.number().int().min(0).default(3).describe('most retries one request may spend, all targets'),
  bodies: bodyPolicySchema.optional().describe("this route's body policy; default telemetry.bodies"),
  rpm: z.number().int().positive().optional().describe('requests per minute for the whole route'),
  tpm: z.number().int().positive().optional().describe('tokens per minute for the whole route'),
  concurrency: z
    .strictObject({
      max: z.number().int().positive().describe('requests in flight at once'),
      queue: z
        .number()
        .int()
        .nonnegative()
        .default(100)
        .describe('requests waiting beyond that; more are shed with 429'),
      queueWaitMs: z
        .number()
        .int()
        .positive()
        .default(5000)
        .describe('longest wait in the queue before shedding'),
    })
    .optional(),
  onKill: z
    .union([
      z.strictObject({ message: z.string().min(1).describe('answer with this assistant message') }),
      z.strictObject({
        response: z.record(z.string(), z.unknown()).describe('answer with this canned completion body'),
      }),
      z.strictObject({ error: z.literal(true).describe('answer 503 saying the route is switched off') }),
    ])
    .default({ error: true })
    .describe('what a killed route answers'),
  targets: z.array(targetSchema).min(1, 'a route needs at least one target'),
});

export const telemetrySchema = z.strictObject({
  store: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('sqlite'), path: z.string().default('.keel/keel.db') }),
      z.strictObject({ type: z.literal('memory'), maxTraces: z.number().int().positive().default(10_000) }),
      z.strictObject({ type: z.literal('none') }),
    ])
    .default({ type: 'sqlite', path: '.keel/keel.db' }),
  queue: z
    .strictObject({
      capacity: z
        .number()
        .int()
        .positive()
        .default(10_000)
        .describe('traces waiting to be written; beyond it they are dropped and counted'),
      flushMs: z.number().int().positive().max(250).default(200),
      batchSize: z.number().int().positive().default(500),
    })
    .default({ capacity: 10_000, flushMs: 200, batchSize: 500 }),
  retention: z
    .strictObject({
      maxAgeDays: z.number().positive().default(30),
      maxRows: z.number().int().positive().default(1_000_000),
    })
    .default({ maxAgeDays: 30, maxRows: 1_000_000 }),
  bodies: bodyPolicySchema.default('redact'),
  hashSaltEnv: z
    .string()
    .default('KEEL_HASH_SALT')
    .describe('environment variable with the salt for bodies: hash'),
  otlp: z
    .strictObject({
      endpoint: z.url().describe('OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces'),
      headers: z.record(z.string(), z.string()).default({}),
      includeBodies: z.boolean().default(false).describe('export redacted bodies as span attributes'),
    })
    .optional(),
});

export const chaosSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe('allow runtime fault injection (keel chaos inject); off in production'),
});

export const serverSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  requestTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe('a client must send its whole request (headers and body) within this; else 408'),
  apiKeyEnv: z.string().default('KEEL_API_KEY').describe('environment variable holding the gateway key'),
  requireKey: z
    .boolean()
    .default(false)
    .describe('every /v1 request must carry a virtual key (keel keys create) or the gateway key'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const configSchema = z.strictObject({
  server: serverSchema.default({
    host: '127.0.0.1',
    port: 8080,
    bodyLimitBytes: 4 * 1024 * 1024,
    requestTimeoutMs: 30_000,
    apiKeyEnv: 'KEEL_API_KEY',
    requireKey: false,
    logLevel: 'info',
  }),
  control: z
    .strictObject({
      store: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('sqlite'), path: z.string().default('.keel/control.db') }),
          z.strictObject({ type: z.literal('memory') }),
        ])
        .default({ type: 'sqlite', path: '.keel/control.db' }),
    })
    .default({ store: { type: 'sqlite', path: '.keel/control.db' } })
    .describe('virtual keys, kill switches, the audit log and config versions'),
  breaker: breakerSchema.default({ failureRate: 0.5, window: 20, minCalls: 10, openMs: 5000 }),
  telemetry: telemetrySchema.default({
    store: { type: 'sqlite', path: '.keel/keel.db' },
    queue: { capacity: 10_000, flushMs: 200, batchSize: 500 },
    retention: { maxAgeDays: 30, maxRows: 1_000_000 },
    bodies: 'redact',
    hashSaltEnv: 'KEEL_HASH_SALT',
  }),
  chaos: chaosSchema.default({ enabled: false }),
  providers: z.record(z.string(), providerSchema),
  models: z.record(z.string(), modelSchema),
  routes: z.record(z.string(), routeSchema),
  features: featuresSchema
    .default({})
    .describe('named units of LLM behaviour: a prompt, a route, an output contract, guards, fallbacks'),
});

export type KeelConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;
export type SimulateConfig = z.infer<typeof simulateSchema>;
export type Pricing = z.infer<typeof pricingSchema>;
export type TelemetryConfig = z.infer<typeof telemetrySchema>;
export type BodyPolicy = z.infer<typeof bodyPolicySchema>;
