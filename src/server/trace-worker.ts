import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTraceStore } from '../store/sqlite/store.ts';
import type { Trace } from '../telemetry/trace.ts';
import { buildRecorder, type PipelineSettings } from './trace-pipeline.ts';

/**
 * The trace writer thread: redaction, SQLite writes and OTLP export happen here, so the request
 * thread pays only for handing traces over. Raw bodies exist only in this thread's memory; nothing
 * is written before redaction.
 */
export type ToWorker =
  | { type: 'traces'; traces: Trace[] }
  | { type: 'bodies'; bodies: PipelineSettings['bodies'] }
  | { type: 'drain'; id: number }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'stats'; stats: ReturnType<import('../telemetry/recorder.ts').TraceRecorder['stats']> }
  | { type: 'done'; id: number }
  | { type: 'error'; where: string; message: string };

const port = parentPort;
if (port) {
  const { path, settings } = workerData as { path: string; settings: PipelineSettings };
  const send = (message: FromWorker) => port.postMessage(message);
  const store = new SqliteTraceStore({ path });
  const pipeline = buildRecorder(settings, store, (err, where) =>
    send({ type: 'error', where, message: err instanceof Error ? err.message : String(err) }),
  );
  const { recorder } = pipeline;
  const report = setInterval(() => send({ type: 'stats', stats: recorder.stats() }), 500);
  report.unref();

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'traces':
        for (const trace of message.traces) recorder.record(trace);
        return;
      case 'bodies':
        pipeline.setBodies(message.bodies);
        return;
      case 'drain':
        void recorder.drain().then(() => {
          send({ type: 'stats', stats: recorder.stats() });
          send({ type: 'done', id: message.id });
        });
        return;
      case 'close':
        clearInterval(report);
        void recorder
          .close()
          .then(() => store.close())
          .then(() => {
            send({ type: 'stats', stats: recorder.stats() });
            send({ type: 'done', id: message.id });
          });
        return;
    }
  });
}
