/** Parent side of bench/lib/protocol.ts: fork a bench server child and talk to it. */
import { type ChildProcess, fork } from 'node:child_process';
import { type ChildStats, isChildMessage } from './protocol.ts';

export type { ChildStats };

export interface ServerChild {
  name: string;
  origin: string;
  pid: number;
  /** The child's memory and CPU time; `gc` first runs a full GC (children forked with --expose-gc). */
  stats(options?: { gc?: boolean }): Promise<ChildStats>;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kill every child still running (used on fatal errors and the global time limit). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export async function startServer(
  name: string,
  script: string,
  args: string[],
  options: { execArgv?: string[]; cwd?: string; readyTimeoutMs?: number } = {},
): Promise<ServerChild> {
  const child = fork(script, args, {
    execArgv: options.execArgv ?? [],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready within ${options.readyTimeoutMs ?? 20_000} ms`));
    }, options.readyTimeoutMs ?? 20_000);
    const onMessage = (msg: unknown) => {
      if (isChildMessage(msg) && msg.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(msg.port);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with code ${code} before it was ready`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });

  let nextId = 1;
  return {
    name,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stats(options = {}) {
      const id = nextId++;
      return new Promise<ChildStats>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${name}: no stats answer within 5 s`));
        }, 5_000);
        const onMessage = (msg: unknown) => {
          if (!isChildMessage(msg) || msg.type !== 'stats' || msg.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          const { type: _type, id: _id, ...stats } = msg;
          resolve(stats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', id, gc: options.gc === true });
      });
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.send({ type: 'close' });
        else child.kill('SIGTERM');
      });
    },
  };
}
