import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { Provider } from '../providers/provider.ts';
import type { Router } from '../router/router.ts';
import { type AdminGuard, adminGuard, registerChaosAdmin } from './admin.ts';
import { ChaosController, type ChaosEvent } from './controller.ts';
import { ChaosProvider } from './wrap.ts';

/**
 * Route every call of `router` through `controller`: each target's provider is replaced, in place, by
 * a chaos wrapper (one per model, shared by the routes that use it). Idempotent per controller.
 * Call it before the gateway serves traffic.
 */
export function wrapRouter(router: Router, controller: ChaosController): void {
  const wrappers = new Map<string, Provider>();
  for (const route of router.routes.values()) {
    for (const target of route.targets) {
      if (target.provider instanceof ChaosProvider && target.provider.controller === controller) continue;
      let wrapper = wrappers.get(target.name);
      if (wrapper === undefined) {
        wrapper = new ChaosProvider(target.provider, target.name, controller);
        wrappers.set(target.name, wrapper);
      }
      target.provider = wrapper;
    }
  }
}

/** The models some route uses: the only ones a fault can reach. */
export function routedModels(router: Router): string[] {
  const names = new Set<string>();
  for (const route of router.routes.values()) for (const t of route.targets) names.add(t.name);
  return [...names];
}

export interface SetupChaosOptions {
  app: FastifyInstance;
  router: Router;
  /** `config.chaos.enabled`. When false no provider is wrapped (zero cost) and inject answers an error. */
  enabled: boolean;
  /** The admin guard; default: the admin key when set, else loopback clients only (as registerAdmin). */
  guard?: AdminGuard;
  /** Used for the default guard. */
  adminKey?: string | undefined;
  clock?: Clock;
  /** Audit line per inject/clear/expire; default: a warn line on `app.log`. */
  log?: (event: ChaosEvent) => void;
}

/**
 * The one call that wires chaos into a gateway: after `buildApp(...)`, before `app.listen(...)`.
 * Returns the controller (to copy `controller.affected(target)` into trace spans).
 */
export function setupChaos(options: SetupChaosOptions): ChaosController {
  const { app, router, enabled } = options;
  const controller = new ChaosController(options.clock ? { clock: options.clock } : {});
  if (enabled) wrapRouter(router, controller);
  const log =
    options.log ??
    ((event: ChaosEvent) =>
      app.log.warn({ chaos: event }, `chaos: ${event.type} on ${event.target}: ${event.description}`));
  controller.onChange(log);
  registerChaosAdmin(app, {
    controller,
    enabled,
    guard: options.guard ?? adminGuard(options.adminKey),
    targets: routedModels(router),
  });
  app.addHook('onClose', async () => controller.close());
  return controller;
}
