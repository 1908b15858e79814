/**
 * The trace recorder: the only way traces leave the request path. `record()` is O(1), never blocks and
 * never throws: it appends to a bounded queue, or drops and counts when the queue is full. A flusher
 * (every `flushMs`, or as soon as `batchSize` traces wait) redacts each trace by its route's body
 * policy, writes the batch to the store in one call, then hands the same redacted traces to each sink
 * (OTLP). Failed writes are counted and reported, and the batch is dropped: nothing is retried, so
 * memory stays bounded at `capacity` queued traces plus one batch in flight (plus, per sink, at most
 * `maxSinkInFlight` batches being exported).
 *
 * The recorder does not own the store: close() drains, then the caller closes the store.
 * Callers must not modify a trace after recording it (redaction happens later, on the flusher).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { redactTrace } from './redact-trace.ts';
import type { BodyPolicyMode } from './redaction.ts';
import type { Trace } from './trace.ts';

/** What the recorder needs of a TraceStore (src/store/trace-store.ts satisfies it). */
export interface TraceWriter {
  writeBatch(traces: Trace[]): Promise<void>;
  prune?(options: { maxAgeMs: number; maxRows: number; now?: number }): Promise<number>;
}

/** An extra destination for redacted traces, e.g. the OTLP exporter. */
export interface TraceSink {
  readonly name: string;
  export(traces: Trace[]): Promise<void>;
}

export interface RecorderErrorContext {
  where: 'store' | 'sink' | 'redaction' | 'retention';
  sink?: string;
  /** Traces lost with this error. */
  traces?: number;
}

export interface RecorderStats {
  /** Waiting in the queue now. */
  queued: number;
  /** Refused because the queue was full (or the recorder closed). */
  dropped: number;
  /** Written to the store. */
  written: number;
  /** Failed store or sink calls. */
  writeErrors: number;
  /** Traces lost after being queued: their store write failed, or they could not be redacted at all. */
  failed: number;
  /** Trace deliveries a sink did not get because it already had maxSinkInFlight exports running. */
  sinkDropped: number;
}

export interface TraceRecorderOptions {
  /** Absent when telemetry.store is 'none' (sinks may still be set). */
  store?: TraceWriter;
  queue: { capacity: number; flushMs: number; batchSize: number };
  retention?: { maxAgeDays: number; maxRows: number };
  /** The body policy of a route (its own, else telemetry.bodies). */
  bodiesFor: (route: string) => BodyPolicyMode;
  /** Salt for 'hash' bodies; hashing with an empty salt fails closed (bodies dropped). */
  salt: string;
  sinks?: TraceSink[];
  onError?: (error: unknown, context: RecorderErrorContext) => void;
  /** Default 10 minutes. */
  retentionEveryMs?: number;
  /** Default 2. */
  maxSinkInFlight?: number;
}

const DAY_MS = 86_400_000;
/** Redact for at most this long before letting the event loop run. */
const REDACT_SLICE_MS = 8;

export class TraceRecorder {
  private readonly store: TraceWriter | undefined;
  private readonly sinks: readonly TraceSink[];
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly maxSinkInFlight: number;
  private readonly queue: Trace[] = [];
  private readonly sinkBusy = new Map<TraceSink, number>();
  private readonly exports = new Set<Promise<void>>();
  private readonly counts = { dropped: 0, written: 0, writeErrors: 0, failed: 0, sinkDropped: 0 };
  private readonly flushTimer: NodeJS.Timeout;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private flushing: Promise<void> | undefined;
  private pruning: Promise<number> | undefined;
  private closed = false;

  constructor(private readonly options: TraceRecorderOptions) {
    this.store = options.store;
    this.sinks = options.sinks ?? [];
    this.capacity = Math.max(1, Math.floor(options.queue.capacity));
    this.batchSize = Math.max(1, Math.floor(options.queue.batchSize));
    this.maxSinkInFlight = Math.max(1, options.maxSinkInFlight ?? 2);
    const flushMs = Math.min(250, Math.max(1, options.queue.flushMs));
    this.flushTimer = setInterval(() => {
      if (this.queue.length > 0) void this.flush();
    }, flushMs).unref();
    if (options.retention && this.store?.prune) {
      this.retentionTimer = setInterval(
        () => void this.runRetention(),
        options.retentionEveryMs ?? 10 * 60_000,
      ).unref();
    }
  }

  /** Queue a trace for writing. Never blocks, never throws. */
  record(trace: Trace): void {
    try {
      if (this.closed || this.queue.length >= this.capacity) {
        this.counts.dropped += 1;
        return;
      }
      this.queue.push(trace);
      if (this.queue.length >= this.batchSize && !this.immediate && !this.flushing) {
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          void this.flush();
        }).unref();
      }
    } catch {
      // Nothing in the request path may fail because of telemetry.
    }
  }

  stats(): RecorderStats {
    return { queued: this.queue.length, ...this.counts };
  }

  /** Write everything queued so far (and wait for sink exports); used on shutdown. */
  async drain(): Promise<void> {
    await this.flush();
    while (this.exports.size > 0) await Promise.allSettled([...this.exports]);
  }

  /** Stop the timers, refuse new traces, drain. Does not close the store. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    await this.drain();
    await this.pruning;
  }

  /** Apply the retention policy now (also runs every 10 minutes). Resolves to the traces removed. */
  runRetention(now?: number): Promise<number> {
    const retention = this.options.retention;
    const store = this.store;
    if (!retention || !store?.prune) return Promise.resolve(0);
    if (this.pruning) return this.pruning;
    const options: { maxAgeMs: number; maxRows: number; now?: number } = {
      maxAgeMs: retention.maxAgeDays * DAY_MS,
      maxRows: retention.maxRows,
    };
    if (now !== undefined) options.now = now;
    const run = (async () => {
      try {
        return (await store.prune?.(options)) ?? 0;
      } catch (err) {
        this.report(err, { where: 'retention' });
        return 0;
      }
    })();
    this.pruning = run.finally(() => {
      this.pruning = undefined;
    });
    return this.pruning;
  }

  /** One flusher at a time; it runs until the queue is empty. */
  private flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.writeBatch(batch);
      } catch (err) {
        // writeBatch catches everything; this is the last line of defence.
        this.counts.failed += batch.length;
        this.report(err, { where: 'store', traces: batch.length });
      }
      if (this.queue.length > 0) await yieldToLoop();
    }
  }

  private policyFor(route: string): BodyPolicyMode | undefined {
    try {
      const mode = this.options.bodiesFor(route);
      return mode === 'redact' || mode === 'hash' || mode === 'drop' ? mode : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeBatch(batch: Trace[]): Promise<void> {
    const safe: Trace[] = [];
    let slice = performance.now();
    for (const trace of batch) {
      try {
        safe.push(redactTrace(trace, this.policyFor(trace.route), this.options.salt));
      } catch (err) {
        this.counts.failed += 1;
        this.report(err, { where: 'redaction', traces: 1 });
      }
      if (performance.now() - slice > REDACT_SLICE_MS) {
        await yieldToLoop();
        slice = performance.now();
      }
    }
    if (safe.length === 0) return;
    if (this.store) {
      try {
        await this.store.writeBatch(safe);
        this.counts.written += safe.length;
      } catch (err) {
        this.counts.writeErrors += 1;
        this.counts.failed += safe.length;
        this.report(err, { where: 'store', traces: safe.length });
      }
    }
    for (const sink of this.sinks) this.exportTo(sink, safe);
  }

  /** Sinks run beside the flusher so a slow remote sink never holds up the store. */
  private exportTo(sink: TraceSink, traces: Trace[]): void {
    const busy = this.sinkBusy.get(sink) ?? 0;
    if (busy >= this.maxSinkInFlight) {
      this.counts.sinkDropped += traces.length;
      return;
    }
    this.sinkBusy.set(sink, busy + 1);
    let started: Promise<void>;
    try {
      started = Promise.resolve(sink.export([...traces]));
    } catch (err) {
      started = Promise.reject(err);
    }
    const tracked: Promise<void> = started
      .catch((err: unknown) => {
        this.counts.writeErrors += 1;
        this.report(err, { where: 'sink', sink: sink.name, traces: traces.length });
      })
      .finally(() => {
        this.sinkBusy.set(sink, (this.sinkBusy.get(sink) ?? 1) - 1);
        this.exports.delete(tracked);
      });
    this.exports.add(tracked);
  }

  private report(error: unknown, context: RecorderErrorContext): void {
    try {
      this.options.onError?.(error, context);
    } catch {
      // A failing logger must not take the flusher down.
    }
  }
}
