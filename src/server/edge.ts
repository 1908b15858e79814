import type { KeelConfig } from '../config/schema.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import type { ChatRequest, EmbeddingRequest } from '../core/types.ts';
import { AdmissionController, type AdmissionLimits, type Priority } from '../edge/admission/controller.ts';
import { AuditLog } from '../edge/audit/audit.ts';
import { MemoryControlStore } from '../edge/control-store/memory.ts';
import { SqliteControlStore } from '../edge/control-store/sqlite.ts';
import type { ControlStore } from '../edge/control-store/types.ts';
import { type KeyRecord, Keys, keyLimits } from '../edge/keys/keys.ts';
import { KillSwitches } from '../edge/kill/switches.ts';
import { estimateRequestTokens, Limiter, maxOutputTokens, worstCaseCost } from '../edge/limits/limiter.ts';
import { MemoryLimitStore } from '../edge/limits/memory-store.ts';
import type { PriceBook } from '../telemetry/cost.ts';
import { gatewayKeyMatcher } from './auth.ts';

/** What a request has been let through with; `done` settles limits and frees its slot, once. */
export interface Pass {
  headers: Record<string, string>;
  done(usage: { tokens: number; costUsd: number }): void;
}

const PRIORITIES = new Set(['high', 'normal', 'low']);

/** The pass of a request nothing limits. */
export const FREE_PASS: Pass = { headers: {}, done: () => {} };

interface EnterInput {
  key: KeyRecord | undefined;
  route: string;
  request: ChatRequest | EmbeddingRequest;
  priority: Priority;
  deadlineAt: number;
  /** Where a queued request's abort signal comes from: read only if the request has to queue. */
  abort: { readonly signal: AbortSignal };
}

export function parsePriority(value: string | string[] | undefined): Priority {
  if (value === undefined) return 'normal';
  if (typeof value === 'string' && PRIORITIES.has(value)) return value as Priority;
  throw new KeelError('KEEL_INVALID_REQUEST', 'x-keel-priority: must be high, normal or low', {
    param: 'x-keel-priority',
  });
}

function admissionLimits(config: KeelConfig): Record<string, AdmissionLimits> {
  const limits: Record<string, AdmissionLimits> = {};
  for (const [name, route] of Object.entries(config.routes)) {
    if (route.concurrency) {
      limits[name] = {
        maxConcurrent: route.concurrency.max,
        maxQueue: route.concurrency.queue,
        maxQueueWaitMs: route.concurrency.queueWaitMs,
      };
    }
  }
  return limits;
}

/**
 * The gateway's edge: who is calling (virtual keys or the gateway key), whether they may use the route,
 * kill switches, admission control (concurrency, queue, priority shedding) and rate limits and budgets.
 * State lives behind interfaces (ControlStore, LimitStore) so replicas can share it.
 */
export class Edge {
  readonly control: ControlStore;
  readonly audit: AuditLog;
  readonly keys: Keys;
  readonly kill: KillSwitches;
  readonly limiter: Limiter;
  readonly admission: AdmissionController;
  private readonly gatewayKey: ((authorization: string | undefined) => boolean) | undefined;
  private config: KeelConfig;

  constructor(
    config: KeelConfig,
    private readonly options: {
      env: NodeJS.ProcessEnv;
      prices: PriceBook;
      clock?: Clock;
      onError?: (err: unknown) => void;
    },
  ) {
    const clock = options.clock ?? systemClock;
    this.config = config;
    const store = config.control.store;
    this.control =
      store.type === 'sqlite' ? new SqliteControlStore({ path: store.path }) : new MemoryControlStore();
    this.audit = new AuditLog(this.control);
    this.keys = new Keys(this.control, this.audit);
    this.kill = new KillSwitches(this.control, this.audit, { onError: (e) => options.onError?.(e) });
    this.limiter = new Limiter({ store: new MemoryLimitStore({ clock }), clock });
    this.admission = new AdmissionController({ clock, routes: admissionLimits(config) });
    this.gatewayKey = gatewayKeyMatcher(options.env[config.server.apiKeyEnv]);
  }

  async start(): Promise<void> {
    await this.kill.start();
  }

  /** A reloaded config: new route limits; keys, switches and buckets carry over. */
  apply(config: KeelConfig): void {
    this.config = config;
    const limits = admissionLimits(config);
    for (const route of Object.keys(config.routes)) this.admission.setLimits(route, limits[route]);
  }

  /**
   * The caller: a virtual key's record, or undefined for the gateway key or an anonymous caller (allowed
   * only when neither `server.requireKey` nor the gateway key is set). OpenAI SDKs always send some
   * bearer token, so an unrecognised token is anonymous when keys are optional.
   */
  /** Who is calling: undefined for the gateway key or an open gateway; a key lookup only for sk-keel- keys. */
  authenticate(authorization: string | undefined): KeyRecord | undefined | Promise<KeyRecord | undefined> {
    if (authorization === undefined && !this.gatewayKey && !this.config.server.requireKey) return undefined;
    if (this.gatewayKey?.(authorization)) return undefined;
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (bearer?.startsWith('sk-keel-')) return this.keys.authenticate(authorization);
    // Keys are required: whatever this is, it is not a valid key (Keys answers 401 the same way for all).
    if (this.gatewayKey || this.config.server.requireKey) return this.keys.authenticate(authorization);
    return undefined;
  }

  /** The most a request on this route could cost: its prompt and max output on the dearest target. */
  private worstCase(route: string, tokens: number, maxTokens: number): number {
    const targets = this.config.routes[route]?.targets ?? [];
    let worst = 0;
    for (const t of targets)
      worst = Math.max(worst, worstCaseCost(tokens, maxTokens, this.options.prices.priceOf(t.model)));
    return worst;
  }

  /**
   * Everything between a valid request and the router, in order: the key may use the route (403), the
   * route or feature or a tool is not killed (503 / the route's kill answer), a slot is free or queued
   * for (429 when shed), the limits and budget admit it (429 saying which).
   */
  enter(input: EnterInput): Pass | Promise<Pass> {
    const { key, route } = input;
    if (key) this.keys.authorize(key, route);
    const routeConfig = this.config.routes[route];
    const limited = key?.rpm || key?.tpm || key?.budgetUsd || routeConfig?.rpm || routeConfig?.tpm;
    // Nothing to queue for and nothing to count: no promise, no allocation on the hot path.
    if (!limited && !routeConfig?.concurrency) return FREE_PASS;
    return this.admit(input, Boolean(limited));
  }

  private async admit(input: EnterInput, limited: boolean): Promise<Pass> {
    const { key, route } = input;
    const routeConfig = this.config.routes[route];

    const release = await this.admission.acquire({
      route,
      priority: input.priority,
      deadlineAt: input.deadlineAt,
      signal: input.abort.signal,
    });
    if (!limited) {
      return { headers: {}, done: once(release) };
    }
    const chat = 'messages' in input.request ? (input.request as ChatRequest) : undefined;
    const estimated = chat
      ? estimateRequestTokens(chat)
      : Math.ceil(JSON.stringify((input.request as EmbeddingRequest).input).length / 4);
    const maxTokens = chat ? maxOutputTokens(chat) : 0;
    let admitted: Awaited<ReturnType<Limiter['admit']>>;
    try {
      admitted = await this.limiter.admit({
        ...(key ? { key: keyLimits(key) } : {}),
        route: { name: route, rpm: routeConfig?.rpm, tpm: routeConfig?.tpm },
        estimatedTokens: estimated,
        worstCaseUsd: this.worstCase(route, estimated, maxTokens),
      });
    } catch (err) {
      release();
      throw err;
    }
    if (!admitted.ok) {
      release();
      throw admitted.error;
    }
    const settle = admitted.settle;
    return {
      headers: admitted.headers,
      done: once((usage: { tokens: number; costUsd: number }) => {
        release();
        settle(usage.tokens, usage.costUsd).catch((err: unknown) => this.options.onError?.(err));
      }),
    };
  }

  async close(): Promise<void> {
    this.kill.stop();
    await this.control.close();
  }
}

function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args: A) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}
