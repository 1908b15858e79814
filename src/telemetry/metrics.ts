import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ERROR_CODES } from '../core/errors.ts';
import { HotCounter, HotHistogram } from './series.ts';
import type { Decision, Trace } from './trace.ts';

/** A circuit breaker's state, as the resilience layer names it (kept structural: telemetry imports only core). */
export type BreakerStateName = 'closed' | 'half-open' | 'open';

/** The shape of a breaker `watchBreaker` can follow (CircuitBreaker satisfies it). */
export interface WatchableBreaker {
  readonly state: { readonly kind: BreakerStateName };
  onTransition(listener: (t: { to: BreakerStateName }) => void): void;
}

/** What the trace recorder reports about its queue; read on every scrape. */
export interface RecorderStats {
  queued: number;
  dropped: number;
  written: number;
  writeErrors: number;
}

export interface MetricsOptions {
  /**
   * Route and target names from the config. When given, any other name becomes `_other` in labels, so a
   * client cannot mint series (a request for an unknown route carries the client's `model`). When not
   * given, at most `maxLabelValues` distinct names per kind are kept and the rest become `_other`.
   */
  names?: { routes: Iterable<string>; targets: Iterable<string> };
  /** Distinct route or target names kept when no `names` are given. Default 200. */
  maxLabelValues?: number;
  /** Node process metrics (`keel_process_*`, `keel_nodejs_*`). Default true. */
  defaultMetrics?: boolean;
}

/** Whole-request latency, seconds: LLM answers take from milliseconds (cache, embeddings) to a minute+. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120];
/** Time to first token, seconds. */
export const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60];

const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };
const DECISIONS = new Set<string>(['primary', 'retry', 'fallback', 'hedge', 'error'] satisfies Decision[]);
const OUTCOMES = new Set<string>(['ok', 'error', 'cancelled', 'pending']);
const OTHER = '_other';
const NONE = 'none';

type Kind = 'route' | 'target';

/**
 * Prometheus metrics, read from traces. Each instance owns its registry (tests make many). `observe` runs
 * once per request after the response is sent: it only increments counters and observes histograms.
 *
 * Labels are bounded: route and target names (config names, see `MetricsOptions.names`), HTTP status
 * codes, decisions, attempt outcomes, Keel error codes; never keys, users, sessions or text.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly known: Record<Kind, Set<string> | undefined> = { route: undefined, target: undefined };
  private readonly seen: Record<Kind, Set<string>> = { route: new Set(), target: new Set() };
  private readonly maxLabelValues: number;
  private recorder: (() => RecorderStats) | undefined;

  // Updated on every request: HotCounter/HotHistogram (series.ts), exposed through the same registry.
  private readonly requests: HotCounter;
  private readonly requestDuration: HotHistogram;
  private readonly upstreamDuration: HotHistogram;
  private readonly ttft: HotHistogram;
  private readonly tokens: HotCounter;
  private readonly cost: HotCounter;
  private readonly retries: HotCounter;
  private readonly fallbacks: HotCounter;
  private readonly attemptErrors: HotCounter;
  private readonly breakerState: Gauge<'target'>;
  private readonly breakerTransitions: Counter<'target' | 'to'>;

  constructor(options: MetricsOptions = {}) {
    this.maxLabelValues = options.maxLabelValues ?? 200;
    if (options.names) this.setNames(options.names);
    const registers = [this.registry];

    this.requests = new HotCounter({
      name: 'keel_requests_total',
      help: 'Requests answered, by route, the target that answered, HTTP status and decision.',
      labelNames: ['route', 'target', 'status', 'decision'],
      registry: this.registry,
    });
    this.requestDuration = new HotHistogram({
      name: 'keel_request_duration_seconds',
      help: 'End-to-end request duration, retries and fallbacks included.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.upstreamDuration = new HotHistogram({
      name: 'keel_upstream_duration_seconds',
      help: 'Duration of one attempt against one target.',
      labelNames: ['target', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.ttft = new HotHistogram({
      name: 'keel_ttft_seconds',
      help: 'Time to first token of the attempt that answered, by route and its target.',
      labelNames: ['route', 'target'],
      buckets: TTFT_BUCKETS,
      registry: this.registry,
    });
    this.tokens = new HotCounter({
      name: 'keel_tokens_total',
      help: 'Tokens spent per attempt: in (prompt), out (completion), cached (prompt tokens read from cache).',
      labelNames: ['route', 'target', 'direction'],
      registry: this.registry,
    });
    this.cost = new HotCounter({
      name: 'keel_cost_usd_total',
      help: 'Cost in US dollars of every attempt, failed ones included.',
      labelNames: ['route', 'target'],
      registry: this.registry,
    });
    this.retries = new HotCounter({
      name: 'keel_retries_total',
      help: 'Attempts that were retries of the same target.',
      labelNames: ['route', 'target'],
      registry: this.registry,
    });
    this.fallbacks = new HotCounter({
      name: 'keel_fallbacks_total',
      help: 'Requests answered by a fallback or a hedge instead of the primary target.',
      labelNames: ['route'],
      registry: this.registry,
    });
    this.attemptErrors = new HotCounter({
      name: 'keel_attempt_errors_total',
      help: 'Failed attempts by target and Keel error code.',
      labelNames: ['target', 'code'],
      registry: this.registry,
    });
    this.breakerState = new Gauge({
      name: 'keel_breaker_state',
      help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: 'keel_breaker_transitions_total',
      help: 'Circuit breaker state changes per target, by the state entered.',
      labelNames: ['target', 'to'],
      registers,
    });

    const read = (pick: (s: RecorderStats) => number): number | undefined => {
      if (!this.recorder) return 0;
      try {
        const value = pick(this.recorder());
        return Number.isFinite(value) && value >= 0 ? value : undefined;
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'keel_trace_queue_depth',
      help: 'Traces waiting to be written.',
      registers,
      collect() {
        const v = read((s) => s.queued);
        if (v !== undefined) this.set(v);
      },
    });
    // Cumulative figures owned by the recorder: exposed as counters, reset to the recorder's value on scrape.
    const cumulative = (name: string, help: string, pick: (s: RecorderStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const v = read(pick);
          if (v === undefined) return;
          this.reset();
          this.inc(v);
        },
      });
    cumulative(
      'keel_traces_dropped_total',
      'Traces dropped because the write queue was full.',
      (s) => s.dropped,
    );
    cumulative('keel_traces_written_total', 'Traces written to the store.', (s) => s.written);
    cumulative('keel_trace_write_errors_total', 'Failed trace write batches.', (s) => s.writeErrors);

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'keel_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The route and target names labels may carry (call again after a config reload). */
  setNames(names: { routes: Iterable<string>; targets: Iterable<string> }): void {
    this.known.route = new Set(names.routes);
    this.known.target = new Set(names.targets);
  }

  /** The recorder's queue figures, read on each scrape. */
  collectRecorder(source: () => RecorderStats): void {
    this.recorder = source;
  }

  setBreaker(target: string, state: BreakerStateName): void {
    this.breakerState.set({ target: this.name('target', target) }, BREAKER_VALUE[state] ?? 0);
  }

  /** Counts a transition and sets the state gauge to the state entered. */
  breakerTransition(target: string, to: BreakerStateName): void {
    const t = this.name('target', target);
    this.breakerTransitions.inc({ target: t, to: to in BREAKER_VALUE ? to : OTHER });
    this.breakerState.set({ target: t }, BREAKER_VALUE[to] ?? 0);
  }

  /** Sets the gauge to the breaker's current state and follows its transitions. */
  watchBreaker(target: string, breaker: WatchableBreaker): void {
    this.setBreaker(target, breaker.state.kind);
    breaker.onTransition((t) => this.breakerTransition(target, t.to));
  }

  observe(trace: Trace): void {
    const route = this.name('route', trace.route);
    const answered = trace.target === undefined ? NONE : this.name('target', trace.target);

    this.requests.inc([
      route,
      answered,
      statusLabel(trace.status),
      DECISIONS.has(trace.decision) ? trace.decision : OTHER,
    ]);
    if (trace.durationMs >= 0) this.requestDuration.observe([route], trace.durationMs / 1000);
    if (trace.ttftMs !== undefined && trace.ttftMs >= 0) {
      this.ttft.observe([route, answered], trace.ttftMs / 1000);
    }
    if (trace.decision === 'fallback' || trace.decision === 'hedge') this.fallbacks.inc([route]);

    // Tokens and cost are attributed per attempt, so a failed attempt's spend lands on its own target.
    let spanTokens = 0;
    let spanCost = 0;
    for (const span of trace.spans) {
      if (span.outcome === 'skipped') continue;
      const target = this.name('target', span.target);
      if (span.latencyMs !== undefined && span.latencyMs >= 0) {
        const outcome = OUTCOMES.has(span.outcome) ? span.outcome : OTHER;
        this.upstreamDuration.observe([target, outcome], span.latencyMs / 1000);
      }
      if (span.reason === 'retry') this.retries.inc([route, target]);
      if (span.outcome === 'error') this.attemptErrors.inc([target, codeLabel(span.errorCode)]);
      spanTokens += span.tokensIn + span.tokensOut + span.tokensCached;
      spanCost += span.costUsd;
      this.spend(route, target, span.tokensIn, span.tokensOut, span.tokensCached, span.costUsd);
    }
    // Spans carried no figures but the trace does (e.g. usage known only for the whole request).
    if (spanTokens === 0 && spanCost === 0) {
      this.spend(route, answered, trace.tokensIn, trace.tokensOut, trace.tokensCached, trace.costUsd);
    }
  }

  private spend(route: string, target: string, tin: number, tout: number, cached: number, usd: number): void {
    if (tin > 0) this.tokens.inc([route, target, 'in'], tin);
    if (tout > 0) this.tokens.inc([route, target, 'out'], tout);
    if (cached > 0) this.tokens.inc([route, target, 'cached'], cached);
    if (usd > 0) this.cost.inc([route, target], usd);
  }

  /** A route or target name as a label: a config name, or `_other`. */
  private name(kind: Kind, value: string): string {
    const known = this.known[kind];
    if (known) return known.has(value) ? value : OTHER;
    const seen = this.seen[kind];
    if (seen.has(value)) return value;
    if (seen.size >= this.maxLabelValues) return OTHER;
    seen.add(value);
    return value;
  }
}

function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}

function codeLabel(code: string | undefined): string {
  if (code === undefined) return 'unknown';
  return Object.hasOwn(ERROR_CODES, code) ? code : OTHER;
}
