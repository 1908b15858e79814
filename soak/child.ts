/**
 * The soak's gateway process: Keel itself (startGateway on a keel.yaml file), plus an IPC handler that
 * answers the parent's samples with this process's own numbers: RSS, heap (after a full GC when run
 * with --expose-gc), event-loop delay since the last sample, open file descriptors and active handles.
 *
 * Usage (the soak forks it): node --import tsx --expose-gc soak/child.ts CONFIG.yaml
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load.ts';
import { startGateway } from '../src/server/gateway.ts';
import { type ChildSample, isParentMessage } from './protocol.ts';

const path = process.argv[2];
if (!path || !process.send) {
  console.error('usage: node --import tsx --expose-gc soak/child.ts CONFIG.yaml (forked, with IPC)');
  process.exit(2);
}

const env = {};
const config = parseConfig(readFileSync(path, 'utf8'), { source: path, env });
const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger: false, env });

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const gc = (globalThis as { gc?: () => void }).gc;

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1; // not Linux
  }
}

function sample(withGc: boolean): ChildSample {
  // Event-loop numbers first: a forced GC is a pause of its own.
  const ns = (v: number) => (Number.isFinite(v) ? v / 1e6 : 0);
  const eventLoop = { p50Ms: ns(loop.percentile(50)), p99Ms: ns(loop.percentile(99)), maxMs: ns(loop.max) };
  loop.reset();
  if (withGc && gc) gc();
  const mem = process.memoryUsage();
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
    arrayBuffersBytes: mem.arrayBuffers,
    eventLoop,
    fds: openFds(),
    handles: process.getActiveResourcesInfo().length,
    gcForced: withGc && gc !== undefined,
    recorder: gateway.telemetry.recorder.stats(),
  };
}

let closing = false;
async function close(code: number) {
  if (closing) return;
  closing = true;
  loop.disable();
  const timer = setTimeout(() => process.exit(code), 10_000);
  timer.unref();
  try {
    await gateway.close();
  } finally {
    process.exit(code);
  }
}

process.on('message', (msg: unknown) => {
  if (!isParentMessage(msg)) return;
  if (msg.type === 'sample') process.send?.({ type: 'sample', id: msg.id, sample: sample(msg.gc) });
  else if (msg.type === 'close') void close(0);
});
// The parent is gone (killed, crashed): never outlive it.
process.on('disconnect', () => void close(0));
process.on('SIGTERM', () => void close(0));

process.send({ type: 'ready', url: gateway.url, pid: process.pid });
