import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';

/**
 * Runs `keel ARGS…` in-process on a fresh commander program with the given commands registered, and
 * returns what it printed. Commander's exits throw (exitOverride) instead of ending the test process.
 */
export async function runCli(
  register: (program: Command) => void,
  args: string[],
): Promise<{ out: string; err: string }> {
  const program = new Command('keel').exitOverride();
  register(program);
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    await program.parseAsync(['node', 'keel', ...args]);
  } finally {
    console.log = log;
    console.error = error;
  }
  return { out: out.join('\n'), err: err.join('\n') };
}

/**
 * For a `describe` block of CLI tests against a running admin API: before it, `build()`'s app listens on
 * loopback and KEEL_ADMIN_KEY is set to `adminKey`; after it, both are undone and the scratch directory
 * is removed. Read `ctx`, `url` and `dir` inside the tests (they are set by the time those run).
 */
export function servedForCli<T extends { app: FastifyInstance }>(
  build: () => Promise<T>,
  adminKey: string,
  dirPrefix: string,
): { ctx: T; url: string; dir: string } {
  const served = { dir: mkdtempSync(join(tmpdir(), dirPrefix)) } as { ctx: T; url: string; dir: string };
  const saved = process.env.KEEL_ADMIN_KEY;
  before(async () => {
    served.ctx = await build();
    await served.ctx.app.listen({ port: 0, host: '127.0.0.1' });
    served.url = `http://127.0.0.1:${(served.ctx.app.server.address() as AddressInfo).port}`;
    process.env.KEEL_ADMIN_KEY = adminKey;
  });
  after(async () => {
    if (saved === undefined) delete process.env.KEEL_ADMIN_KEY;
    else process.env.KEEL_ADMIN_KEY = saved;
    await served.ctx.app.close();
    rmSync(served.dir, { recursive: true, force: true });
  });
  return served;
}
