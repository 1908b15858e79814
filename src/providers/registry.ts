import type { KeelConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { AnthropicProvider } from './anthropic.ts';
import { OpenAIProvider } from './openai.ts';
import type { Provider } from './provider.ts';
import { SimulatedProvider } from './simulated.ts';

function apiKey(
  provider: { apiKeyEnv?: string | undefined; apiKey?: string | undefined },
  env: NodeJS.ProcessEnv,
) {
  return provider.apiKey ?? (provider.apiKeyEnv === undefined ? undefined : env[provider.apiKeyEnv]);
}

/**
 * One Provider per model: real protocols share one instance (one connection pool) per provider entry;
 * each simulated model gets its own instance carrying that model's behaviour.
 */
export function createProviders(
  config: KeelConfig,
  options: { clock?: Clock; env?: NodeJS.ProcessEnv } = {},
): Map<string, Provider> {
  const env = options.env ?? process.env;
  const shared = new Map<string, Provider>();
  const byModel = new Map<string, Provider>();
  for (const [modelName, model] of Object.entries(config.models)) {
    const entry = config.providers[model.provider];
    if (entry === undefined) continue; // reported by config validation
    if (entry.type === 'simulated') {
      const behaviour = model.simulate ?? undefined;
      byModel.set(
        modelName,
        new SimulatedProvider({
          models: behaviour ? { '*': behaviour } : {},
          ...(options.clock ? { clock: options.clock } : {}),
        }),
      );
      continue;
    }
    let provider = shared.get(model.provider);
    if (provider === undefined) {
      provider =
        entry.type === 'openai'
          ? new OpenAIProvider({
              baseUrl: entry.baseUrl,
              apiKey: apiKey(entry, env),
              authHeader: entry.authHeader,
              headers: entry.headers,
              query: entry.query,
              maxConnections: entry.maxConnections,
            })
          : new AnthropicProvider({
              baseUrl: entry.baseUrl,
              apiKey: apiKey(entry, env),
              version: entry.version,
              headers: entry.headers,
              maxConnections: entry.maxConnections,
            });
      shared.set(model.provider, provider);
    }
    byModel.set(modelName, provider);
  }
  return byModel;
}
