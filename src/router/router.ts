import type { KeelConfig, RouteConfig } from '../config/schema.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/types.ts';
import type { Provider } from '../providers/provider.ts';
import { type BreakerState, CircuitBreaker } from '../resilience/circuit-breaker.ts';
import { type Parent, Timebox } from '../resilience/deadline.ts';
import { callOptions, chatAttempt, oneShotAttempt, type StreamStart, streamAttempt } from './attempt.ts';
import { Chain, type ChainOptions, type ChainResult } from './chain.ts';
import { orderByRank } from './order.ts';
import type { AttemptRecord, Target } from './target.ts';

export const MODEL_ROUTE_PREFIX = 'model:';
const DIRECT_DEADLINE_MS = 60_000;

export interface RouteRuntime {
  name: string;
  config: RouteConfig;
  targets: Target[];
  /** When every target has its own rank the order never changes: computed once. */
  fixedOrder?: Target[] | undefined;
}

/** What the router did for one request: the decision and every attempt. */
export interface RouteOutcome {
  route: string;
  target: string;
  decision: AttemptRecord['reason'];
  attempts: AttemptRecord[];
}

export interface StreamOutcome extends RouteOutcome {
  first: ChatChunk;
  rest: AsyncGenerator<ChatChunk>;
}

export interface RouterOptions {
  providers: Map<string, Provider>;
  /** A target switched off (kill switch) is skipped by every chain. */
  targetDisabled?: (model: string) => boolean;
  /** The chaos fault active on a target, recorded on each attempt. */
  chaosFault?: (model: string) => string | undefined;
  clock?: Clock;
  random?: () => number;
}

export interface TargetHealth {
  model: string;
  provider: string;
  breaker: BreakerState['kind'];
  retryAt?: number;
}

/** Routes → target chains. Breakers are per model, shared by every route that uses the model. */
export class Router {
  readonly routes = new Map<string, RouteRuntime>();
  readonly breakers = new Map<string, CircuitBreaker>();
  private readonly directRoutes = new Map<string, RouteRuntime>();
  private models: KeelConfig['models'] = {};
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    config: KeelConfig,
    private readonly options: RouterOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    for (const [modelName, model] of Object.entries(config.models)) {
      const overrides = Object.fromEntries(
        Object.entries(model.breaker ?? {}).filter(([, v]) => v !== undefined),
      );
      this.breakers.set(modelName, new CircuitBreaker({ ...config.breaker, ...overrides }, this.clock));
    }
    this.models = config.models;
    for (const [name, route] of Object.entries(config.routes)) {
      const targets = route.targets.map((t, i): Target => {
        const model = config.models[t.model]!;
        const provider = options.providers.get(t.model);
        if (!provider) throw new Error(`no provider for model ${t.model}`);
        return {
          name: t.model,
          providerName: model.provider,
          upstreamModel: model.model,
          provider,
          breaker: this.breakers.get(t.model)!,
          settings: { ...t, timeoutMs: t.timeoutMs ?? Math.min(30_000, route.deadlineMs), rank: t.rank ?? i },
        };
      });
      const distinct = new Set(targets.map((t) => t.settings.rank)).size === targets.length;
      this.routes.set(name, {
        name,
        config: route,
        targets,
        fixedOrder: distinct ? orderByRank(targets) : undefined,
      });
    }
  }

  route(name: string): RouteRuntime {
    const route = this.routes.get(name) ?? this.modelRoute(name);
    if (!route) {
      const known = [...this.routes.keys()].map((r) => `"${r}"`).join(', ');
      // The client's text is echoed only in part: a 200 KB model name does not come back 200 KB long.
      const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
      throw new KeelError(
        'KEEL_UNKNOWN_ROUTE',
        `model "${shown}" is not a route of this gateway; routes: ${known}`,
        {
          param: 'model',
        },
      );
    }
    return route;
  }

  /**
   * `model:NAME` addresses one model directly (evals, debugging): a one-target route with no retries
   * and no fallback, so what answers is that model or an error. Its breaker is the model's own.
   */
  private modelRoute(name: string): RouteRuntime | undefined {
    if (!name.startsWith(MODEL_ROUTE_PREFIX)) return undefined;
    const modelName = name.slice(MODEL_ROUTE_PREFIX.length);
    const model = this.models[modelName];
    const provider = this.options.providers.get(modelName);
    if (!model || !provider) return undefined;
    let route = this.directRoutes.get(modelName);
    if (!route) {
      const target: Target = {
        name: modelName,
        providerName: model.provider,
        upstreamModel: model.model,
        provider,
        breaker: this.breakers.get(modelName)!,
        settings: {
          timeoutMs: DIRECT_DEADLINE_MS,
          stallTimeoutMs: DIRECT_DEADLINE_MS,
          retry: { max: 0, baseDelayMs: 100, maxDelayMs: 1000 },
          weight: 1,
          rank: 0,
        },
      };
      route = {
        name,
        config: {
          description: `the model ${modelName} alone`,
          deadlineMs: DIRECT_DEADLINE_MS,
          retryBudget: 0,
          targets: [{ model: modelName, ...target.settings }],
        } as RouteConfig,
        targets: [target],
        fixedOrder: [target],
      };
      this.directRoutes.set(modelName, route);
    }
    return route;
  }

  private deadline(route: RouteRuntime, signal: Parent, attempts?: AttemptRecord[]) {
    const box = new Timebox(this.clock, [signal]);
    const { deadlineMs } = route.config;
    box.arm(
      deadlineMs,
      () =>
        new KeelError('KEEL_DEADLINE_EXCEEDED', `route "${route.name}" deadline of ${deadlineMs} ms passed`),
    );
    return { box, deadlineAt: this.clock.now() + deadlineMs, attempts };
  }

  private chain<T>(
    route: RouteRuntime,
    deadline: { box: Timebox; deadlineAt: number; attempts: AttemptRecord[] | undefined },
    attempt: (target: Target, record: AttemptRecord, box: Timebox) => Promise<T>,
  ): Promise<ChainResult<T>> {
    const options: ChainOptions<T> = {
      targets: route.fixedOrder ?? orderByRank(route.targets, this.random),
      attempt,
      scope: deadline.box,
      deadlineAt: deadline.deadlineAt,
      retryBudget: route.config.retryBudget,
      hedgeAfterMs: route.config.hedgeAfterMs,
      clock: this.clock,
      random: this.random,
    };
    if (deadline.attempts) options.attempts = deadline.attempts;
    if (this.options.targetDisabled) options.disabled = this.options.targetDisabled;
    if (this.options.chaosFault) options.chaos = this.options.chaosFault;
    return new Chain<T>(options).run();
  }

  private outcome(route: RouteRuntime, result: ChainResult<unknown>): RouteOutcome {
    return {
      route: route.name,
      target: result.winner.target,
      decision: result.winner.reason,
      attempts: result.attempts,
    };
  }

  /** `attempts`, when given, receives every attempt as it starts (also when the request fails). */
  async chat(
    routeName: string,
    request: ChatRequest,
    signal: Parent,
    attempts?: AttemptRecord[],
  ): Promise<RouteOutcome & { completion: ChatCompletion }> {
    const route = this.route(routeName);
    const deadline = this.deadline(route, signal, attempts);
    try {
      const result = await this.chain(route, deadline, (target, record, box) =>
        chatAttempt({ target, record, request, box, clock: this.clock }),
      );
      return { ...this.outcome(route, result), completion: result.value };
    } finally {
      deadline.box.dispose();
    }
  }

  /**
   * Resolves when some target produced its first chunk: failover is transparent until then. After it,
   * `rest` throws on any failure (cut, stall, garbage, deadline); it never ends quietly.
   */
  async stream(
    routeName: string,
    request: ChatRequest,
    signal: Parent,
    attempts?: AttemptRecord[],
  ): Promise<StreamOutcome> {
    const route = this.route(routeName);
    const deadline = this.deadline(route, signal, attempts);
    let result: ChainResult<StreamStart>;
    try {
      result = await this.chain(route, deadline, (target, record, box) =>
        streamAttempt({ target, record, request, box, clock: this.clock }),
      );
    } catch (err) {
      deadline.box.dispose();
      throw err;
    }
    const inner = result.value.rest;
    async function* rest(): AsyncGenerator<ChatChunk> {
      try {
        yield* inner;
      } finally {
        deadline.box.dispose();
      }
    }
    return { ...this.outcome(route, result), first: result.value.first, rest: rest() };
  }

  async embeddings(
    routeName: string,
    request: EmbeddingRequest,
    signal: Parent,
    attempts?: AttemptRecord[],
  ): Promise<RouteOutcome & { response: EmbeddingResponse }> {
    const route = this.route(routeName);
    const capable = route.targets.filter((t) => t.provider.embeddings !== undefined);
    if (capable.length === 0) {
      throw new KeelError('KEEL_UNSUPPORTED', `route "${routeName}" has no target that serves embeddings`, {
        param: 'model',
      });
    }
    const deadline = this.deadline(route, signal, attempts);
    try {
      const result = await this.chain(
        { ...route, targets: capable, fixedOrder: undefined },
        deadline,
        (target, record, box) =>
          oneShotAttempt(
            { target, record, box, clock: this.clock },
            (box) => target.provider.embeddings!(request, callOptions(target.upstreamModel, box)),
            (response) => ({ model: response.model }),
          ),
      );
      return { ...this.outcome(route, result), response: result.value };
    } finally {
      deadline.box.dispose();
    }
  }

  health(): TargetHealth[] {
    const seen: TargetHealth[] = [];
    for (const route of this.routes.values()) {
      for (const t of route.targets) {
        if (seen.some((h) => h.model === t.name)) continue;
        const state = t.breaker.state;
        seen.push({
          model: t.name,
          provider: t.providerName,
          breaker: state.kind,
          ...(state.kind === 'open' ? { retryAt: state.retryAt } : {}),
        });
      }
    }
    return seen;
  }

  async close(): Promise<void> {
    const providers = new Set(this.options.providers.values());
    await Promise.all([...providers].map((p) => p.close?.()));
  }
}
