import type { KeelConfig } from '../config/schema.ts';
import type { Router } from '../router/router.ts';
import { MemoryTraceStore } from '../store/memory.ts';
import { SqliteTraceStore } from '../store/sqlite/store.ts';
import type { TraceStore } from '../store/trace-store.ts';
import type { Price, PriceBook } from '../telemetry/cost.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { OtlpExporter } from '../telemetry/otlp.ts';
import { TraceRecorder } from '../telemetry/recorder.ts';
import { buildTrace, type RequestRecord } from './tracing.ts';

/** Prices per Keel model: config `pricing` first, else the built-in table by upstream name. */
export function pricesOf(config: KeelConfig): Map<string, { upstream: string; price?: Price | undefined }> {
  return new Map(
    Object.entries(config.models).map(([name, m]) => [name, { upstream: m.model, price: m.pricing }]),
  );
}

export interface Telemetry {
  store: TraceStore | undefined;
  recorder: TraceRecorder;
  metrics: Metrics;
  prices: PriceBook;
  /** Turns a request's record into its trace: metrics now, the store and exporters off the request path. */
  onTrace(rec: RequestRecord): void;
  /** A reloaded config: label names, breakers to watch, prices. */
  apply(config: KeelConfig, router: Router): void;
  /** Write what is queued (SIGTERM), then close the store. */
  close(): Promise<void>;
}

function openStore(config: KeelConfig): TraceStore | undefined {
  const store = config.telemetry.store;
  if (store.type === 'sqlite') return new SqliteTraceStore({ path: store.path });
  if (store.type === 'memory') return new MemoryTraceStore({ maxTraces: store.maxTraces });
  return undefined;
}

/** The trace pipeline of one gateway: store, recorder (redaction, batching), metrics, OTLP. */
export function setupTelemetry(
  live: { config: KeelConfig; router: Router },
  options: { env: NodeJS.ProcessEnv; prices: PriceBook; onError?: (err: unknown, where: string) => void },
): Telemetry {
  const { config, router } = live;
  const { telemetry } = config;
  const { prices } = options;
  const store = openStore(config);
  const sinks = [];
  if (telemetry.otlp) {
    const exporter = new OtlpExporter({
      endpoint: telemetry.otlp.endpoint,
      headers: telemetry.otlp.headers,
      includeBodies: telemetry.otlp.includeBodies,
    });
    sinks.push({
      name: 'otlp',
      export: (traces: Parameters<OtlpExporter['export']>[0]) => exporter.export(traces),
    });
  }
  const recorder = new TraceRecorder({
    ...(store ? { store } : {}),
    queue: telemetry.queue,
    retention: telemetry.retention,
    bodiesFor: (route) => live.config.routes[route]?.bodies ?? live.config.telemetry.bodies,
    salt: options.env[telemetry.hashSaltEnv] ?? '',
    sinks,
    onError: (err, context) =>
      options.onError?.(err, `trace ${context.where}${context.sink ? ` ${context.sink}` : ''}`),
  });

  const metrics = new Metrics({
    names: { routes: Object.keys(config.routes), targets: Object.keys(config.models) },
  });
  metrics.collectRecorder(() => recorder.stats());
  for (const [name, breaker] of router.breakers) metrics.watchBreaker(name, breaker);

  const writes = store !== undefined || sinks.length > 0;
  return {
    store,
    recorder,
    metrics,
    prices,
    onTrace(rec) {
      try {
        const trace = buildTrace(rec, prices, Date.now());
        rec.pass?.done({ tokens: trace.tokensIn + trace.tokensOut, costUsd: trace.costUsd });
        metrics.observe(trace);
        // With no store and no exporter there is nowhere to write: skip redaction and queueing.
        if (writes) recorder.record(trace);
      } catch (err) {
        rec.pass?.done({ tokens: 0, costUsd: 0 });
        options.onError?.(err, 'trace build');
      }
    },
    apply(next, nextRouter) {
      metrics.setNames({ routes: Object.keys(next.routes), targets: Object.keys(next.models) });
      for (const [name, breaker] of nextRouter.breakers) metrics.watchBreaker(name, breaker);
      prices.replace(pricesOf(next));
    },
    async close() {
      await recorder.close();
      await store?.close();
    },
  };
}
