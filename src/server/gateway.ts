import type { FastifyInstance } from 'fastify';
import type { KeelConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { createProviders } from '../providers/registry.ts';
import { Router } from '../router/router.ts';
import { buildApp } from './app.ts';
import { setupTelemetry, type Telemetry } from './telemetry.ts';

export interface GatewayOptions {
  config: KeelConfig;
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
  router: Router;
  telemetry: Telemetry;
  close(): Promise<void>;
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
  const env = options.env ?? process.env;
  const { config } = options;
  const providers = createProviders(config, { env, ...(options.clock ? { clock: options.clock } : {}) });
  const router = new Router(config, { providers, ...(options.clock ? { clock: options.clock } : {}) });
  let log: ((err: unknown, where: string) => void) | undefined;
  const telemetry = setupTelemetry(config, router, { env, onError: (err, where) => log?.(err, where) });
  const app = buildApp({
    config,
    router,
    apiKey: env[config.server.apiKeyEnv],
    logger: options.logger ?? true,
    onTrace: telemetry.onTrace,
    admin: { store: telemetry.store, metrics: telemetry.metrics, adminKey: env.KEEL_ADMIN_KEY },
  });
  log = (err, where) => app.log.warn({ err, where }, 'telemetry failure');
  const host = options.host ?? config.server.host;
  await app.listen({ host, port: options.port ?? config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    app,
    router,
    telemetry,
    async close() {
      await app.close();
      await router.close();
      await telemetry.close();
    },
  };
}
