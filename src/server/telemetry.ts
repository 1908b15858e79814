import type { KeelConfig } from '../config/schema.ts';
import type { Router } from '../router/router.ts';
import { MemoryTraceStore } from '../store/memory.ts';
import { SqliteTraceStore } from '../store/sqlite/store.ts';
import type { TraceStore } from '../store/trace-store.ts';
import { PriceBook } from '../telemetry/cost.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { OtlpExporter } from '../telemetry/otlp.ts';
import { TraceRecorder } from '../telemetry/recorder.ts';
import { buildTrace, type RequestRecord } from './tracing.ts';

export interface Telemetry {
  store: TraceStore | undefined;
  recorder: TraceRecorder;
  metrics: Metrics;
  prices: PriceBook;
  /** Turns a request's record into its trace: metrics now, the store and exporters off the request path. */
  onTrace(rec: RequestRecord): void;
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
  config: KeelConfig,
  router: Router,
  options: { env: NodeJS.ProcessEnv; onError?: (err: unknown, where: string) => void },
): Telemetry {
  const { telemetry } = config;
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
    bodiesFor: (route) => config.routes[route]?.bodies ?? telemetry.bodies,
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

  const prices = new PriceBook(
    new Map(
      Object.entries(config.models).map(([name, m]) => [name, { upstream: m.model, price: m.pricing }]),
    ),
  );

  return {
    store,
    recorder,
    metrics,
    prices,
    onTrace(rec) {
      try {
        const trace = buildTrace(rec, prices, Date.now());
        metrics.observe(trace);
        recorder.record(trace);
      } catch (err) {
        options.onError?.(err, 'trace build');
      }
    },
    async close() {
      await recorder.close();
      await store?.close();
    },
  };
}
