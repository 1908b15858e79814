/**
 * Admin API for the human review queue.
 *
 *   POST /admin/review                 enqueue { reason, input, output?, contexts?, validation?, feature?,
 *                                      route?, traceId?, tags? } — for an app's own "flag this answer"
 *   GET  /admin/review                 ?status=open|resolved|rejected (default: all) &limit=N (default 50),
 *                                      newest first, with the count per status
 *   GET  /admin/review/export          resolved items as golden-dataset JSONL (?ids=a,b to pick;
 *                                      ?format=json for `{ cases }`)
 *   GET  /admin/review/:id             one item
 *   POST /admin/review/:id/resolve     { answer: text | object, note? } or { reject: true, note? }
 *
 * Every route is behind `guard`; the reviewer is the x-keel-actor header (see control-admin.ts).
 * Items enqueued here pass through `redact` first, when given.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Clock, systemClock } from '../core/clock.ts';
import type { AuditLog } from '../edge/audit/audit.ts';
import { ReviewNotFoundError } from '../review/errors.ts';
import { toJsonl } from '../review/golden.ts';
import { REVIEW_ID } from '../review/ids.ts';
import {
  type NewReviewItem,
  REVIEW_REASONS,
  REVIEW_STATUSES,
  type Resolution,
  type ReviewStore,
} from '../review/store.ts';
import { actorOf } from './control-admin.ts';
import { parseBody } from './schemas.ts';

export interface ReviewAdminOptions {
  store: ReviewStore;
  /** Refuses a request that may not use the admin API (throw a KeelError). */
  guard: (request: FastifyRequest) => void | Promise<void>;
  /** Applied to items enqueued through the API (e.g. PII redaction); the caller's own path redacts itself. */
  redact?: ((item: NewReviewItem) => NewReviewItem) | undefined;
  /** When given, resolutions are also written to the audit log. */
  audit?: Pick<AuditLog, 'append'> | undefined;
  clock?: Pick<Clock, 'now'> | undefined;
}

const text = (max: number) => z.string().min(1).max(max);
const wholeNumber = z.string().regex(/^\d+$/, 'a whole number').transform(Number);

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]),
});

const enqueueBody = z.strictObject({
  reason: z.enum(REVIEW_REASONS),
  feature: text(200).optional(),
  route: text(200).optional(),
  traceId: text(200).optional(),
  promptVersion: text(100).optional(),
  input: z
    .strictObject({
      messages: z.array(message).min(1).max(500).optional(),
      variables: z.record(z.string(), z.json()).optional(),
    })
    .refine((i) => i.messages !== undefined || i.variables !== undefined, 'give messages, variables or both'),
  output: z.json().optional(),
  contexts: z.array(z.string().max(100_000)).max(100).optional(),
  validation: z.json().optional(),
  tags: z.array(text(100)).max(50).optional(),
});

const listQuery = z.strictObject({
  status: z.enum([...REVIEW_STATUSES, 'all']).optional(),
  limit: wholeNumber.pipe(z.number().min(1).max(1000)).optional(),
});

const exportQuery = z.strictObject({
  ids: z.string().max(20_000).optional(),
  format: z.enum(['jsonl', 'json']).optional(),
});

const resolveBody = z
  .strictObject({
    answer: z.union([z.string(), z.record(z.string(), z.json())]).optional(),
    reject: z.literal(true).optional(),
    note: z.string().trim().min(1).max(2000).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.answer !== undefined && b.reject !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['reject'], message: 'give an answer or reject: true, not both' });
    } else if (b.reject === undefined && b.answer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['answer'],
        message: 'required: the right answer, or send reject: true',
      });
    } else if (typeof b.answer === 'string' && b.answer.trim() === '') {
      ctx.addIssue({ code: 'custom', path: ['answer'], message: 'must not be empty' });
    }
  });

function idParam(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  // A malformed id cannot exist: answer 404 without asking the store.
  if (!REVIEW_ID.test(id)) throw new ReviewNotFoundError(id);
  return id;
}

export function registerReviewAdmin(app: FastifyInstance, options: ReviewAdminOptions): void {
  const { store, guard, audit } = options;
  const clock = options.clock ?? systemClock;
  const onRequest = async (request: FastifyRequest) => {
    await guard(request);
  };

  app.post('/admin/review', { onRequest }, async (request, reply) => {
    const body = parseBody<NewReviewItem>(enqueueBody, request.body);
    const item = await store.enqueue(options.redact ? options.redact(body) : body, clock.now());
    reply.code(201);
    return { item };
  });

  app.get('/admin/review', { onRequest }, async (request) => {
    const query = parseBody<z.infer<typeof listQuery>>(listQuery, request.query);
    const status = query.status === 'all' ? undefined : query.status;
    const [items, counts] = await Promise.all([
      store.list({ status, limit: query.limit ?? 50 }),
      store.counts(),
    ]);
    return { items, counts };
  });

  app.get('/admin/review/export', { onRequest }, async (request, reply) => {
    const query = parseBody<z.infer<typeof exportQuery>>(exportQuery, request.query);
    const ids = query.ids
      ?.split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    const cases = await store.exportGolden(ids);
    if (query.format === 'json') return { cases };
    reply.type('application/x-ndjson; charset=utf-8');
    return toJsonl(cases);
  });

  app.get('/admin/review/:id', { onRequest }, async (request) => {
    const id = idParam(request);
    const item = await store.get(id);
    if (!item) throw new ReviewNotFoundError(id);
    return { item };
  });

  app.post('/admin/review/:id/resolve', { onRequest }, async (request) => {
    const body = parseBody<z.infer<typeof resolveBody>>(resolveBody, request.body);
    const resolution: Resolution = body.reject
      ? { reject: true, note: body.note }
      : { answer: body.answer!, note: body.note };
    const who = actorOf(request);
    const item = await store.resolve(idParam(request), resolution, { who, at: clock.now() });
    await audit?.append({
      who,
      action: item.status === 'rejected' ? 'review.reject' : 'review.resolve',
      subject: `review:${item.id}`,
      reason: item.note,
    });
    return { item };
  });
}
