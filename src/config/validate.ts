import { compileFeatures, featureReferenceProblems } from '../features/config.ts';
import { guardsConfigSchema } from '../guards/config.ts';
import type { PathProblem } from './interpolate.ts';
import type { KeelConfig } from './schema.ts';
import { didYouMean } from './suggest.ts';

/** Checks zod cannot express: references between sections, and values that only make sense together. */
export function crossCheck(config: KeelConfig, env: Record<string, string | undefined>): PathProblem[] {
  const problems: PathProblem[] = [];
  const providers = Object.keys(config.providers);
  const models = Object.keys(config.models);

  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.type === 'simulated') continue;
    if (provider.apiKeyEnv !== undefined && !env[provider.apiKeyEnv]) {
      problems.push({
        path: `providers.${name}.apiKeyEnv`,
        problem: `environment variable ${provider.apiKeyEnv} is not set (export it, or remove the provider)`,
      });
    }
    if (provider.apiKeyEnv !== undefined && provider.apiKey !== undefined) {
      problems.push({ path: `providers.${name}`, problem: 'set apiKeyEnv or apiKey, not both' });
    }
  }

  for (const [name, model] of Object.entries(config.models)) {
    const provider = config.providers[model.provider];
    if (provider === undefined) {
      problems.push({
        path: `models.${name}.provider`,
        problem: `unknown provider "${model.provider}"${didYouMean(model.provider, providers)}`,
      });
    } else if (model.simulate !== undefined && provider.type !== 'simulated') {
      problems.push({
        path: `models.${name}.simulate`,
        problem: `only models of a simulated provider take "simulate" (provider "${model.provider}" is ${provider.type})`,
      });
    }
    if (model.simulate && model.simulate.ttftMs.p99 < model.simulate.ttftMs.p50) {
      problems.push({ path: `models.${name}.simulate.ttftMs.p99`, problem: 'must be at least p50' });
    }
  }

  for (const [name, route] of Object.entries(config.routes)) {
    if (name.startsWith('feature:')) {
      problems.push({
        path: `routes.${name}`,
        problem: 'route names may not start with "feature:" (reserved)',
      });
    }
    route.targets.forEach((target, i) => {
      const at = `routes.${name}.targets[${i}]`;
      if (config.models[target.model] === undefined) {
        problems.push({
          path: `${at}.model`,
          problem: `unknown model "${target.model}"${didYouMean(target.model, models)}`,
        });
      }
      const timeoutMs = target.timeoutMs ?? Math.min(30_000, route.deadlineMs);
      if (timeoutMs > route.deadlineMs) {
        problems.push({
          path: `${at}.timeoutMs`,
          problem: `${target.timeoutMs} exceeds the route's deadlineMs ${route.deadlineMs}; lower it or raise deadlineMs`,
        });
      }
      if (target.firstTokenTimeoutMs !== undefined && target.firstTokenTimeoutMs > timeoutMs) {
        problems.push({ path: `${at}.firstTokenTimeoutMs`, problem: 'must not exceed timeoutMs' });
      }
      if (target.retry.maxDelayMs < target.retry.baseDelayMs) {
        problems.push({ path: `${at}.retry.maxDelayMs`, problem: 'must be at least baseDelayMs' });
      }
    });
    if (route.hedgeAfterMs !== undefined && route.hedgeAfterMs >= route.deadlineMs) {
      problems.push({ path: `routes.${name}.hedgeAfterMs`, problem: 'must be below deadlineMs' });
    }
  }

  problems.push(...featureReferenceProblems(config.features, new Set(Object.keys(config.routes))));
  for (const [name, feature] of Object.entries(config.features)) {
    if (feature.guards !== undefined) {
      const parsed = guardsConfigSchema.safeParse(feature.guards);
      if (parsed.success) {
        parsed.data.input.forEach((g, i) => {
          const route = g.type === 'injection' ? g.classifier?.route : undefined;
          if (route !== undefined && !(route in config.routes)) {
            problems.push({
              path: `features.${name}.guards.input[${i}].classifier.route`,
              problem: `unknown route "${route}"${didYouMean(route, Object.keys(config.routes))}`,
            });
          }
        });
      } else {
        for (const issue of parsed.error.issues) {
          const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
          problems.push({ path: `features.${name}.guards${at}`, problem: issue.message });
        }
      }
    }
    try {
      compileFeatures({ [name]: feature });
    } catch (err) {
      const [path = `features.${name}`, ...rest] = (err as Error).message.split(': ');
      problems.push({ path, problem: rest.join(': ') });
    }
  }

  const { host } = config.server;
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  if (!loopback && !env[config.server.apiKeyEnv]) {
    problems.push({
      path: 'server.host',
      problem: `binding ${host} exposes the gateway beyond this machine; set ${config.server.apiKeyEnv} to require a gateway key, or bind 127.0.0.1`,
    });
  }
  return problems;
}
