import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { didYouMean } from '../config/suggest.ts';
import { KeelError } from '../core/errors.ts';
import { actorOf } from '../server/control-admin.ts';
import { parseBody } from '../server/schemas.ts';
import type { ChaosController } from './controller.ts';
import { EMPTY_FAULT, type Fault, faultShape, hasEffect } from './faults.ts';

/** Lets a request through or throws a KeelError (server/control-admin.ts `adminGuard` is one). */
export type AdminGuard = (request: FastifyRequest) => void | Promise<void>;

export interface ChaosAdminOptions {
  controller: ChaosController;
  /** `chaos.enabled` of the (live) config: without it, nothing can be injected. */
  enabled: boolean | (() => boolean);
  /** The admin guard, the one the other /admin routes use. */
  guard: AdminGuard;
  /** The model names faults may target (read per request, so a config reload is seen). */
  targets: string[] | (() => string[]);
}

export const DISABLED_MESSAGE = 'chaos is disabled: set chaos.enabled: true in keel.yaml';

const reason = z.string().trim().min(1).max(500).optional();

const injectBody = z.strictObject({
  target: z.string().min(1).max(200),
  durationMs: z.number().int().positive().max(86_400_000).optional(),
  reason,
  ...faultShape,
});

const clearBody = z.strictObject({ target: z.string().min(1).max(200).optional(), reason });

type InjectBody = Fault & { target: string; durationMs?: number | undefined; reason?: string | undefined };

/**
 * GET /admin/chaos, POST /admin/chaos/inject, POST /admin/chaos/clear. Each inject and clear carries
 * who did it (x-keel-actor, else "admin") and an optional reason into the controller's events.
 */
export function registerChaosAdmin(app: FastifyInstance, options: ChaosAdminOptions): void {
  const { controller, guard } = options;
  const enabled = typeof options.enabled === 'function' ? options.enabled : () => options.enabled as boolean;
  const targets = typeof options.targets === 'function' ? options.targets : () => options.targets as string[];
  const onRequest = async (request: FastifyRequest) => guard(request);

  app.get('/admin/chaos', { onRequest }, async () => ({
    enabled: enabled(),
    targets: targets(),
    faults: controller.list(),
  }));

  app.post('/admin/chaos/inject', { onRequest }, async (request) => {
    if (!enabled()) throw new KeelError('KEEL_UNSUPPORTED', DISABLED_MESSAGE);
    const body = parseBody<InjectBody>(injectBody, request.body);
    const { target, durationMs, reason: why, ...fault } = body;
    const known = targets();
    if (!known.includes(target)) {
      const list = known.map((t) => `"${t}"`).join(', ');
      throw new KeelError(
        'KEEL_INVALID_REQUEST',
        `target: "${target}" is not a model of this gateway's routes${didYouMean(target, known)}; models: ${list}`,
        { param: 'target' },
      );
    }
    if (!hasEffect(fault)) throw new KeelError('KEEL_INVALID_REQUEST', EMPTY_FAULT);
    if (fault.until !== undefined && fault.until <= Date.now()) {
      throw new KeelError('KEEL_INVALID_REQUEST', 'until: is in the past', { param: 'until' });
    }
    const by = { who: actorOf(request), ...(why !== undefined ? { reason: why } : {}) };
    return { injected: controller.inject(target, fault, durationMs, by) };
  });

  app.post('/admin/chaos/clear', { onRequest }, async (request) => {
    const { target, reason: why } = parseBody<{ target?: string; reason?: string }>(
      clearBody,
      request.body ?? {},
    );
    const by = { who: actorOf(request), ...(why !== undefined ? { reason: why } : {}) };
    const cleared = controller.clear(target, by);
    return { cleared, faults: controller.list() };
  });
}
