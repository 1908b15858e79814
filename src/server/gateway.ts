import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Chaos, createChaos } from '../chaos/setup.ts';
import { ConfigReloader } from '../config/reload.ts';
import type { KeelConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { openPromptStore } from '../prompts/open-store.ts';
import { PromptRegistry } from '../prompts/registry.ts';
import { createProviders } from '../providers/registry.ts';
import { openReviewStore } from '../review/open-store.ts';
import { Router } from '../router/router.ts';
import { PriceBook } from '../telemetry/cost.ts';
import { buildApp } from './app.ts';
import { adminGuard, registerControlAdmin } from './control-admin.ts';
import { Edge } from './edge.ts';
import { registerFeatureAdmin } from './feature-admin.ts';
import { createFeatureRuntime, type FeatureRuntime } from './features.ts';
import { tuneHeap } from './heap.ts';
import { pricesOf, setupTelemetry, type Telemetry } from './telemetry.ts';

export interface GatewayOptions {
  config: KeelConfig;
  /** The keel.yaml the config came from: enables reload on change/SIGHUP, versions and rollback. */
  configPath?: string;
  /** Override config.server.port (0 picks a free port). */
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  logger?: boolean;
  clock?: Clock;
}

export interface Gateway {
  url: string;
  app: FastifyInstance;
  /** The live router and config; a reload swaps both. */
  live: { config: KeelConfig; router: Router };
  /** The live router (shorthand for live.router). */
  readonly router: Router;
  telemetry: Telemetry;
  edge: Edge;
  /** Runtime fault injection; active only with chaos.enabled in keel.yaml. */
  chaos: Chaos;
  reloader: ConfigReloader | undefined;
  /** Features, the prompt registry and the review queue. */
  features: FeatureRuntime;
  prompts: PromptRegistry;
  close(): Promise<void>;
}

/** Prompts and the review queue live next to the control store (or in memory with it). */
function featureStores(config: KeelConfig) {
  const control = config.control.store;
  if (control.type === 'memory') {
    return { prompts: openPromptStore({ type: 'memory' }), review: openReviewStore({ type: 'memory' }) };
  }
  const dir = dirname(control.path);
  return {
    prompts: openPromptStore({ type: 'sqlite', path: join(dir, 'prompts.db') }),
    review: openReviewStore({ type: 'sqlite', path: join(dir, 'review.db') }),
  };
}

/**
 * Start Keel on `host:port`.
 *
 * @example
 * const gw = await startGateway({ config: loadConfig(), port: 0 });
 * // point any OpenAI SDK at `${gw.url}/v1`
 * await gw.close();
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  tuneHeap();
  const env = options.env ?? process.env;
  const clock = options.clock ? { clock: options.clock } : {};
  let log: ((err: unknown, where: string) => void) | undefined;
  const onError = (err: unknown, where: string) => log?.(err, where);

  const prices = new PriceBook(pricesOf(options.config));
  const edge = new Edge(options.config, { env, prices, ...clock, onError: (err) => onError(err, 'edge') });
  await edge.start();
  const chaos = createChaos(options.clock ? { clock: options.clock } : {});
  const makeRouter = (config: KeelConfig) =>
    new Router(config, {
      // Chaos wraps providers only when config.chaos.enabled; otherwise the same map comes back.
      providers: chaos.wrap(createProviders(config, { env, ...clock }), config),
      ...clock,
      targetDisabled: (model) => edge.kill.isKilled('target', model),
      ...(config.chaos.enabled ? { chaosFault: (model: string) => chaos.controller.affected(model) } : {}),
    });
  const live = { config: options.config, router: makeRouter(options.config) };
  const telemetry = setupTelemetry(live, { env, prices, onError });
  const stores = featureStores(options.config);
  const prompts = new PromptRegistry(stores.prompts);
  const features = createFeatureRuntime({ live, prompts, review: stores.review, prices });

  const app = buildApp({
    live,
    edge,
    apiKey: env[options.config.server.apiKeyEnv],
    logger: options.logger ?? true,
    onTrace: telemetry.onTrace,
    features,
    admin: { store: telemetry.store, metrics: telemetry.metrics, adminKey: env.KEEL_ADMIN_KEY },
  });
  log = (err, where) => app.log.warn({ err, where }, 'background failure');

  const reloader = options.configPath
    ? new ConfigReloader({
        path: options.configPath,
        store: edge.control,
        audit: edge.audit,
        env,
        onApply: (config) => {
          // Swap atomically: requests in flight finish on the old router; new ones see the new one.
          const old = live.router;
          live.router = makeRouter(config);
          live.config = config;
          edge.apply(config);
          telemetry.apply(config, live.router);
          features.apply(config);
          setTimeout(() => void old.close(), 60_000).unref();
          app.log.info({ routes: Object.keys(config.routes) }, 'config applied');
        },
        onReject: (problems) =>
          app.log.error({ problems }, 'config rejected; still serving the previous one'),
        onError: (err) => onError(err, 'config reload'),
      })
    : undefined;
  if (reloader) await reloader.start();

  chaos.register(app, { live, guard: adminGuard(env.KEEL_ADMIN_KEY), audit: edge.audit });
  registerControlAdmin(app, {
    keys: edge.keys,
    kill: edge.kill,
    audit: edge.audit,
    reloader,
    guard: adminGuard(env.KEEL_ADMIN_KEY),
    knownRoutes: () => Object.keys(live.config.routes),
    knownTargets: () => Object.keys(live.config.models),
  });
  registerFeatureAdmin(app, {
    prompts,
    review: stores.review,
    releases: features.releases,
    shadowStats: () => features.shadow.stats,
    guard: adminGuard(env.KEEL_ADMIN_KEY),
    knownFeatures: () => Object.keys(live.config.features),
  });

  const host = options.host ?? options.config.server.host;
  await app.listen({ host, port: options.port ?? options.config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.config.server.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    app,
    live,
    get router() {
      return live.router;
    },
    telemetry,
    edge,
    chaos,
    reloader,
    features,
    prompts,
    async close() {
      reloader?.stop();
      await app.close();
      await features.close();
      await prompts.close();
      await stores.review.close();
      await live.router.close();
      await telemetry.close();
      await edge.close();
    },
  };
}
