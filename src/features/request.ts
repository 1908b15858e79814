/**
 * The body of `POST /v1/features/{name}`: variables for the prompt, conversation messages, and who is
 * asking (user, session: the canary's sticky keys). Unknown fields are refused, so a typo is a 400.
 */
import { z } from 'zod';

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]),
});

export const featureCallBodySchema = z.strictObject({
  variables: z.record(z.string(), z.unknown()).default({}),
  messages: z.array(messageSchema).default([]),
  user: z.string().min(1).max(256).optional(),
  session: z.string().min(1).max(256).optional(),
  version: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a prompt version id')
    .optional()
    .describe('run exactly this prompt version (evals); no canary, no fallback to known-good'),
});

export type FeatureCallBody = z.infer<typeof featureCallBodySchema>;
