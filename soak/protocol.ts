/** IPC between the soak (parent) and its gateway child (soak/child.ts). */
import type { RecorderStats } from '../src/telemetry/recorder.ts';

export interface ChildSample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Event-loop delay since the previous sample (perf_hooks.monitorEventLoopDelay). */
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Entries of /proc/self/fd (-1 where there is no /proc). */
  fds: number;
  /** process.getActiveResourcesInfo().length: sockets, timers, handles keeping the loop alive. */
  handles: number;
  /** Heap numbers were taken right after a full GC. */
  gcForced: boolean;
  /** The trace recorder's counters (queued, dropped, written, ...). */
  recorder: RecorderStats;
}

export type ParentMessage = { type: 'sample'; id: number; gc: boolean } | { type: 'close' };

export type ChildMessage =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'sample'; id: number; sample: ChildSample };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

export function isParentMessage(msg: unknown): msg is ParentMessage {
  return isRecord(msg) && (msg.type === 'close' || (msg.type === 'sample' && typeof msg.id === 'number'));
}

export function isChildMessage(msg: unknown): msg is ChildMessage {
  return isRecord(msg) && (msg.type === 'ready' || msg.type === 'sample');
}
