import type { KeelConfig } from '../config/schema.ts';
import type { TraceStore } from '../store/trace-store.ts';
import { OtlpExporter } from '../telemetry/otlp.ts';
import { type RecorderStats, TraceRecorder, type TraceSink } from '../telemetry/recorder.ts';
import type { BodyPolicyMode } from '../telemetry/redaction.ts';
import type { Trace } from '../telemetry/trace.ts';

/** What records traces, in this thread or in the writer worker: the request path only calls `record`. */
export interface RecorderLike {
  record(trace: Trace): void;
  stats(): RecorderStats;
  /** Write everything recorded so far. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The recorder's settings as plain data, so they can cross to a worker thread. */
export interface PipelineSettings {
  queue: KeelConfig['telemetry']['queue'];
  retention: KeelConfig['telemetry']['retention'];
  bodies: { fallback: BodyPolicyMode; routes: Record<string, BodyPolicyMode> };
  salt: string;
  otlp: KeelConfig['telemetry']['otlp'];
}

export function pipelineSettings(config: KeelConfig, env: NodeJS.ProcessEnv): PipelineSettings {
  const routes: Record<string, BodyPolicyMode> = {};
  for (const [name, route] of Object.entries(config.routes)) if (route.bodies) routes[name] = route.bodies;
  return {
    queue: config.telemetry.queue,
    retention: config.telemetry.retention,
    bodies: { fallback: config.telemetry.bodies, routes },
    salt: env[config.telemetry.hashSaltEnv] ?? '',
    otlp: config.telemetry.otlp,
  };
}

/** The recorder with its sinks: redaction by body policy, batched writes to `store`, OTLP export. */
export function buildRecorder(
  settings: PipelineSettings,
  store: TraceStore | undefined,
  onError: (err: unknown, where: string) => void,
): { recorder: TraceRecorder; setBodies(bodies: PipelineSettings['bodies']): void; writes: boolean } {
  let bodies = settings.bodies;
  const sinks: TraceSink[] = [];
  if (settings.otlp) {
    const exporter = new OtlpExporter({
      endpoint: settings.otlp.endpoint,
      headers: settings.otlp.headers,
      includeBodies: settings.otlp.includeBodies,
    });
    sinks.push({ name: 'otlp', export: (traces) => exporter.export(traces) });
  }
  const recorder = new TraceRecorder({
    ...(store ? { store } : {}),
    queue: settings.queue,
    retention: settings.retention,
    bodiesFor: (route) => bodies.routes[route] ?? bodies.fallback,
    salt: settings.salt,
    sinks,
    onError: (err, context) =>
      onError(err, `trace ${context.where}${context.sink ? ` ${context.sink}` : ''}`),
  });
  return {
    recorder,
    setBodies(next) {
      bodies = next;
    },
    writes: store !== undefined || sinks.length > 0,
  };
}
