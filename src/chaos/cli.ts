import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { adminCall, type ControlConn } from '../cli/control.ts';
import { table } from '../cli/traces.ts';
import type { ActiveFault } from './controller.ts';
import { type Fault, parseDuration } from './faults.ts';

type Conn = ControlConn;

function rate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration like 500ms, 2s, 5m or 1h');
  return ms;
}

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function status(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 400 || n > 599)
    throw new InvalidArgumentError('must be an HTTP status 400-599');
  return n;
}

export interface InjectOptions {
  errorRate?: number;
  status?: number;
  latency?: number;
  hangRate?: number;
  rateLimit?: boolean;
  retryAfter?: number;
  garbage?: boolean;
  cutStreamAfter?: number;
  stall?: number;
}

/** `keel chaos inject` options → the fault the admin API takes. */
export function faultFromOptions(opts: InjectOptions): Fault {
  const fault: Fault = {};
  if (opts.errorRate !== undefined) fault.errorRate = opts.errorRate;
  if (opts.status !== undefined) fault.status = opts.status;
  if (opts.latency !== undefined) fault.latencyMs = opts.latency;
  if (opts.hangRate !== undefined) fault.hangRate = opts.hangRate;
  if (opts.rateLimit) fault.rateLimit = true;
  if (opts.retryAfter !== undefined) fault.retryAfterMs = opts.retryAfter;
  if (opts.garbage) fault.garbage = true;
  if (opts.cutStreamAfter !== undefined) fault.cutStreamAfter = opts.cutStreamAfter;
  if (opts.stall !== undefined) fault.stallMs = opts.stall;
  return fault;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

function faultRows(faults: ActiveFault[]): string[][] {
  return faults.map((f) => [
    f.target,
    f.description,
    clock(f.since),
    f.until === undefined
      ? 'until cleared'
      : `${clock(f.until)} (${Math.max(0, Math.round((f.until - Date.now()) / 1000))} s left)`,
    String(f.calls),
    String(f.applied),
  ]);
}

/** The repository root (src/chaos/cli.ts and dist/chaos/cli.js both sit two levels below it). */
function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** Run the game days (chaos/run.ts) in a child process; resolves to its exit code. */
export function runGameDays(args: string[]): Promise<number> {
  const root = repoRoot();
  const entry = `${root}chaos/run.ts`;
  if (!existsSync(entry)) {
    throw new Error(
      `game days live in the source checkout (${entry} not found); run them from the repository`,
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: root,
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** `keel chaos inject|clear|list|run`. */
export function registerChaosCommands(program: Command): void {
  const url = ['--url <url>', 'the running gateway', 'http://127.0.0.1:8080'] as const;
  const who = ['--who <name>', 'who you are, for the audit log (default $USER)'] as const;
  const chaos = program
    .command('chaos')
    .description('inject faults into a running gateway (needs chaos.enabled: true) and run game days');

  chaos
    .command('inject <target>')
    .description('inject a fault on a model: every call to it is slowed, hung or failed while it lasts')
    .option('--error-rate <p>', 'share of calls that fail, 0-1 (default 1; alone: status 503)', rate)
    .option('--status <code>', 'fail with this upstream status (default 503)', status)
    .option('--latency <duration>', 'add latency to every call, e.g. 2s', duration)
    .option('--hang-rate <p>', 'share of calls that hang until Keel times them out, 0-1', rate)
    .option('--rate-limit', 'answer 429 with Retry-After')
    .option('--retry-after <duration>', 'the Retry-After of --rate-limit (default 1s)', duration)
    .option('--garbage', 'answer an unparseable body')
    .option('--cut-stream-after <n>', 'streams break off after n chunks', whole)
    .option('--stall <duration>', 'streams go silent this long after their first chunk', duration)
    .option('--duration <duration>', 'how long the fault lasts (default: until cleared)', duration)
    .option('--reason <text>', 'why, for the audit log')
    .option(...who)
    .option(...url)
    .option('--json', 'print JSON')
    .action(async (target: string, opts: InjectOptions & Conn & { duration?: number; reason?: string }) => {
      const body = {
        target,
        ...faultFromOptions(opts),
        ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      };
      const { injected } = await adminCall<{ injected: ActiveFault }>(
        opts,
        'POST',
        '/admin/chaos/inject',
        body,
      );
      if (opts.json) {
        console.log(JSON.stringify(injected, null, 2));
        return;
      }
      const until = injected.until === undefined ? 'until cleared' : `until ${clock(injected.until)}`;
      console.log(`chaos on ${injected.target}: ${injected.description} (${until})`);
    });

  chaos
    .command('clear [target]')
    .description('clear the fault on one model, or all faults')
    .option('--reason <text>', 'why, for the audit log')
    .option(...who)
    .option(...url)
    .action(async (target: string | undefined, opts: Conn & { reason?: string }) => {
      const { cleared } = await adminCall<{ cleared: number }>(opts, 'POST', '/admin/chaos/clear', {
        ...(target !== undefined ? { target } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      });
      console.log(`cleared ${cleared} fault(s)${target === undefined ? '' : ` on ${target}`}`);
    });

  chaos
    .command('list')
    .description('the active faults')
    .option(...url)
    .option('--json', 'print JSON')
    .action(async (opts: Conn) => {
      const state = await adminCall<{ enabled: boolean; targets: string[]; faults: ActiveFault[] }>(
        opts,
        'GET',
        '/admin/chaos',
      );
      if (opts.json) {
        console.log(JSON.stringify(state, null, 2));
        return;
      }
      if (!state.enabled) console.log('chaos is disabled (chaos.enabled: false)');
      if (state.faults.length === 0) console.log('no active faults');
      else
        console.log(
          table(['target', 'fault', 'since', 'until', 'calls', 'affected'], faultRows(state.faults)),
        );
      console.log(`targets: ${state.targets.join(', ')}`);
    });

  chaos
    .command('run [scenario]')
    .description(
      'run the game days on loopback (all scenarios, or one) and write chaos/results/latest.{json,md}',
    )
    .option('--short', 'the short CI version (about 2 minutes)')
    .action(async (scenario: string | undefined, opts: { short?: boolean }) => {
      const args = [...(opts.short ? ['--short'] : []), ...(scenario ? [scenario] : [])];
      process.exitCode = await runGameDays(args);
    });
}
