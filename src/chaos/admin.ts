import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { didYouMean } from '../config/suggest.ts';
import { KeelError } from '../core/errors.ts';
import { gatewayKeyCheck } from '../server/auth.ts';
import { parseBody } from '../server/schemas.ts';
import type { ChaosController } from './controller.ts';
import { EMPTY_FAULT, type Fault, faultShape, hasEffect } from './faults.ts';

/** An onRequest hook that lets a request through or throws a KeelError. */
export type AdminGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface ChaosAdminOptions {
  controller: ChaosController;
  /** `chaos.enabled` of the config: without it, nothing can be injected. */
  enabled: boolean;
  /** The admin guard (the same one the other /admin routes use). */
  guard: AdminGuard;
  /** The model names faults may target. */
  targets: string[];
}

export const DISABLED_MESSAGE = 'chaos is disabled: set chaos.enabled: true in keel.yaml';

function loopback(request: FastifyRequest): boolean {
  const ip = request.socket.remoteAddress ?? '';
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

/**
 * The admin guard of `registerAdmin` (server/admin.ts): the admin key when one is set, loopback
 * clients only otherwise. Kept here until admin.ts exports its own; pass that one when it does.
 */
export function adminGuard(adminKey: string | undefined): AdminGuard {
  const check = gatewayKeyCheck(adminKey);
  return async (request) => {
    if (check) check(request.headers.authorization);
    else if (!loopback(request)) {
      throw new KeelError(
        'KEEL_UNAUTHORIZED',
        'admin endpoints need KEEL_ADMIN_KEY when reached from another host',
      );
    }
  };
}

const injectBody = z.strictObject({
  target: z.string().min(1).max(200),
  durationMs: z.number().int().positive().max(86_400_000).optional(),
  ...faultShape,
});

const clearBody = z.strictObject({ target: z.string().min(1).max(200).optional() });

type InjectBody = Fault & { target: string; durationMs?: number | undefined };

/** GET /admin/chaos, POST /admin/chaos/inject, POST /admin/chaos/clear. */
export function registerChaosAdmin(app: FastifyInstance, options: ChaosAdminOptions): void {
  const { controller, enabled, guard, targets } = options;
  const known = new Set(targets);

  app.get('/admin/chaos', { onRequest: guard }, async () => ({
    enabled,
    targets,
    faults: controller.list(),
  }));

  app.post('/admin/chaos/inject', { onRequest: guard }, async (request) => {
    if (!enabled) throw new KeelError('KEEL_UNSUPPORTED', DISABLED_MESSAGE);
    const { target, durationMs, ...fault } = parseBody<InjectBody>(injectBody, request.body);
    if (!known.has(target)) {
      const list = targets.map((t) => `"${t}"`).join(', ');
      throw new KeelError(
        'KEEL_INVALID_REQUEST',
        `target: "${target}" is not a model of this gateway${didYouMean(target, targets)}; models: ${list}`,
        { param: 'target' },
      );
    }
    if (!hasEffect(fault)) throw new KeelError('KEEL_INVALID_REQUEST', EMPTY_FAULT);
    if (fault.until !== undefined && fault.until <= Date.now()) {
      throw new KeelError('KEEL_INVALID_REQUEST', 'until: is in the past', { param: 'until' });
    }
    return { injected: controller.inject(target, fault, durationMs) };
  });

  app.post('/admin/chaos/clear', { onRequest: guard }, async (request) => {
    const { target } = parseBody<{ target?: string }>(clearBody, request.body ?? {});
    const cleared = controller.clear(target);
    return { cleared, faults: controller.list() };
  });
}
