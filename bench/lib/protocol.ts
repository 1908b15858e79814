/**
 * The IPC protocol between the bench orchestrator (parent) and its server children. Children are
 * forked with an IPC channel; each sends `ready` with its port once listening, answers `stats`, and
 * exits (cleanly, so `--cpu-prof` profiles get written) on `close` or when the parent goes away.
 */

/** `gc: true` runs a full GC first (only when the child has --expose-gc), to see live memory. */
export type ParentMessage = { type: 'stats'; id: number; gc?: boolean } | { type: 'close' };

/** A child's memory (bytes) and CPU time used so far (microseconds, user and system). */
export interface ChildStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  cpuUserUs: number;
  cpuSystemUs: number;
}

export type ChildMessage = { type: 'ready'; port: number } | ({ type: 'stats'; id: number } & ChildStats);

export function isChildMessage(value: unknown): value is ChildMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** Child side: announce the port, then serve stats probes and the close request. */
export function serveChild(port: number, close: () => Promise<void>): void {
  const send = process.send?.bind(process);
  if (!send) {
    // Run by hand (no IPC channel): say where we listen and run until killed.
    console.log(JSON.stringify({ type: 'ready', port }));
    return;
  }
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    // Bounded: a close that hangs (open keep-alive sockets) must not keep the child alive.
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('message', (raw: unknown) => {
    const msg = raw as ParentMessage;
    if (msg.type === 'stats') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (msg.gc && gc) gc();
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        id: msg.id,
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
      } satisfies ChildMessage);
    } else if (msg.type === 'close') {
      shutdown();
    }
  });
  process.on('disconnect', shutdown);
  send({ type: 'ready', port } satisfies ChildMessage);
}
