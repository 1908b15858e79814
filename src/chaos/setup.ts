import type { FastifyInstance } from 'fastify';
import type { KeelConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Provider } from '../providers/provider.ts';
import type { Router } from '../router/router.ts';
import { type AdminGuard, registerChaosAdmin } from './admin.ts';
import { ChaosController, type ChaosEvent } from './controller.ts';
import { ChaosProvider, wrapProviders } from './wrap.ts';

/** The models some route of `config` uses: the only ones a fault can reach. */
export function routedModels(config: Pick<KeelConfig, 'routes'>): string[] {
  const names = new Set<string>();
  for (const route of Object.values(config.routes)) for (const t of route.targets) names.add(t.model);
  return [...names];
}

/** Structurally the edge AuditLog (`edge.audit`): chaos does not import the edge layer. */
export interface ChaosAuditSink {
  append(input: {
    who: string;
    action: string;
    subject: string;
    reason?: string | undefined;
    details?: unknown;
  }): Promise<unknown>;
}

export interface ChaosRegisterOptions {
  /** The gateway's live config (a reload swaps `live.config`; chaos reads it per request). */
  live: { config: KeelConfig };
  /** The admin guard: `adminGuard(env.KEEL_ADMIN_KEY)` from server/control-admin.ts. */
  guard: AdminGuard;
  /** When given, every inject/clear/expire is appended as `chaos.inject|clear|expire`. */
  audit?: ChaosAuditSink | undefined;
}

/** Chaos for one gateway: one controller that outlives config reloads. */
export interface Chaos {
  readonly controller: ChaosController;
  /**
   * A `createProviders(config)` map, wrapped when `config.chaos.enabled` (zero cost otherwise). Call
   * it wherever a router is built, reloads included. A config with chaos off also clears any fault.
   */
  wrap(providers: Map<string, Provider>, config: KeelConfig): Map<string, Provider>;
  /**
   * The admin routes, plus a warn log line (and an audit entry) per inject/clear/expire. Call after
   * buildApp, before listen. Clears every fault when the app closes.
   */
  register(app: FastifyInstance, options: ChaosRegisterOptions): void;
}

export function createChaos(options: { clock?: Clock; random?: () => number } = {}): Chaos {
  const controller = new ChaosController(options);
  return {
    controller,
    wrap(providers, config) {
      if (config.chaos.enabled) return wrapProviders(providers, controller);
      controller.clear(undefined, { who: 'system:config', reason: 'chaos.enabled is false' });
      return providers;
    },
    register(app, { live, guard, audit }) {
      registerChaosAdmin(app, {
        controller,
        guard,
        enabled: () => live.config.chaos.enabled,
        targets: () => routedModels(live.config),
      });
      controller.onChange((event: ChaosEvent) => {
        app.log.warn({ chaos: event }, `chaos ${event.type} on ${event.target}: ${event.description}`);
        audit
          ?.append({
            who: event.who,
            action: `chaos.${event.type}`,
            subject: `target:${event.target}`,
            reason: event.reason,
            details: {
              fault: event.description,
              ...(event.until !== undefined ? { until: event.until } : {}),
            },
          })
          .catch((err: unknown) => app.log.warn({ err }, 'chaos: audit append failed'));
      });
      app.addHook('onClose', async () => controller.close());
    },
  };
}

/**
 * Route every call of an already-built `router` through `controller`, replacing each target's provider
 * in place (one wrapper per model). For harnesses that get a router from startGateway (the game days);
 * a gateway should use `createChaos().wrap` where it builds routers, so config reloads keep chaos.
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
