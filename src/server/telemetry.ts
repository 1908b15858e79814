import type { KeelConfig } from '../config/schema.ts';
import type { Router } from '../router/router.ts';
import { MemoryTraceStore } from '../store/memory.ts';
import { SqliteTraceStore } from '../store/sqlite/store.ts';
import type { TraceStore } from '../store/trace-store.ts';
import type { Price, PriceBook } from '../telemetry/cost.ts';
import { Metrics } from '../telemetry/metrics.ts';
import {
  buildRecorder,
  type PipelineSettings,
  pipelineSettings,
  type RecorderLike,
} from './trace-pipeline.ts';
import { WorkerRecorder } from './trace-worker-client.ts';
import { buildTrace, type RequestRecord } from './tracing.ts';

/** Prices per Keel model: config `pricing` first, else the built-in table by upstream name. */
export function pricesOf(config: KeelConfig): Map<string, { upstream: string; price?: Price | undefined }> {
  return new Map(
    Object.entries(config.models).map(([name, m]) => [name, { upstream: m.model, price: m.pricing }]),
  );
}

const COUNT_ONLY = { describe: false };

export interface Telemetry {
  store: TraceStore | undefined;
  recorder: RecorderLike;
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
  const { prices } = options;
  const store = openStore(config);
  const settings = pipelineSettings(config, options.env);
  const onError = (err: unknown, where: string) => options.onError?.(err, where);
  // SQLite: redaction and writes run in a worker thread (its own connection); this thread reads. The
  // memory store (and none) record inline, so tests and ephemeral runs need no thread.
  let recorder: RecorderLike & { setBodies(bodies: PipelineSettings['bodies']): void };
  let writes: boolean;
  if (config.telemetry.store.type === 'sqlite') {
    recorder = new WorkerRecorder(config.telemetry.store.path, settings, onError);
    writes = true;
  } else {
    const inline = buildRecorder(settings, store, onError);
    recorder = Object.assign(inline.recorder, { setBodies: inline.setBodies });
    writes = inline.writes;
  }

  const metrics = new Metrics({
    names: { routes: Object.keys(config.routes), targets: Object.keys(config.models) },
  });
  metrics.collectRecorder(() => recorder.stats());
  for (const [name, breaker] of router.breakers) metrics.watchBreaker(name, breaker);

  return {
    store,
    recorder,
    metrics,
    prices,
    onTrace(rec) {
      try {
        // With nowhere to write, the trace is only counted: its decision path is never read.
        const trace = buildTrace(rec, prices, Date.now(), writes ? undefined : COUNT_ONLY);
        rec.pass?.done({ tokens: trace.tokensIn + trace.tokensOut, costUsd: trace.costUsd });
        metrics.observe(trace);
        // With no store and no exporter there is nowhere to write: skip redaction and queueing.
        if (!writes) return;
        if (rec.pendingEvals === undefined) recorder.record(trace);
        else {
          // A judge verdict is coming (off the request path): store the trace with it.
          void rec.pendingEvals.then(
            (evals) => {
              trace.slots.evals = [...(trace.slots.evals ?? []), ...evals];
              recorder.record(trace);
            },
            () => recorder.record(trace),
          );
        }
      } catch (err) {
        rec.pass?.done({ tokens: 0, costUsd: 0 });
        options.onError?.(err, 'trace build');
      }
    },
    apply(next, nextRouter) {
      recorder.setBodies(pipelineSettings(next, options.env).bodies);
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
