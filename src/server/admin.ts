import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { KeelError } from '../core/errors.ts';
import type { TraceQuery, TraceStore } from '../store/trace-store.ts';
import { adminGuard } from './control-admin.ts';
import { parseBody } from './schemas.ts';

export interface AdminOptions {
  store: TraceStore | undefined;
  /** Prometheus exposition. */
  metrics?: { render(): Promise<string>; contentType: string } | undefined;
  /** The admin key; without one, admin endpoints answer loopback clients only. */
  adminKey?: string | undefined;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "1h", "7d" → milliseconds. */
export function parseWindow(value: string): number | undefined {
  const m = DURATION.exec(value);
  return m ? Number(m[1]) * UNIT[m[2]!]! : undefined;
}

const time = z.union([
  z.string().regex(/^\d+$/).transform(Number),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  z
    .string()
    .regex(DURATION, 'a time: epoch ms, ISO 8601, or a window like 1h (meaning that long ago)')
    .transform((s) => Date.now() - parseWindow(s)!),
]);

const traceQuery = z.strictObject({
  route: z.string().max(200).optional(),
  target: z.string().max(200).optional(),
  status: z
    .union([
      z.enum(['ok', 'error']),
      z
        .string()
        .regex(/^[1-5]\d\d$/, 'an HTTP status or ok|error')
        .transform(Number),
    ])
    .optional(),
  decision: z.enum(['primary', 'retry', 'fallback', 'hedge', 'error']).optional(),
  user: z.string().max(200).optional(),
  session: z.string().max(200).optional(),
  feature: z.string().max(200).optional(),
  key: z.string().max(200).optional(),
  since: time.optional(),
  until: time.optional(),
  text: z.string().min(1).max(200).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().min(1).max(500))
    .optional(),
  cursor: z.string().max(500).optional(),
});

const statsQuery = z.strictObject({
  window: z.string().regex(DURATION, 'a window like 15m, 1h or 7d').default('1h'),
});

/** GET /admin/traces, /admin/traces/:id, /admin/stats, /metrics. */
export function registerAdmin(app: FastifyInstance, options: AdminOptions): void {
  const check = adminGuard(options.adminKey);
  const guard = async (request: FastifyRequest) => check(request);
  const store = () => {
    if (!options.store)
      throw new KeelError('KEEL_UNSUPPORTED', 'tracing is off (telemetry.store.type: none)');
    return options.store;
  };

  app.get('/admin/traces', { onRequest: guard }, async (request) => {
    const query = parseBody<TraceQuery>(traceQuery, request.query);
    return store().list(query);
  });

  app.get('/admin/traces/:id', { onRequest: guard }, async (request) => {
    const { id } = request.params as { id: string };
    const trace = await store().get(id);
    if (!trace)
      throw new KeelError('KEEL_NOT_FOUND', `no trace with id "${id.slice(0, 128)}"`, { param: 'id' });
    return trace;
  });

  app.get('/admin/stats', { onRequest: guard }, async (request) => {
    const { window } = parseBody<{ window: string }>(statsQuery, request.query);
    const until = Date.now();
    return { window, ...(await store().stats(until - parseWindow(window)!, until)) };
  });

  app.get('/metrics', { onRequest: guard }, async (_request, reply) => {
    if (!options.metrics) throw new KeelError('KEEL_UNSUPPORTED', 'metrics are off');
    reply.header('content-type', options.metrics.contentType);
    return options.metrics.render();
  });
}
