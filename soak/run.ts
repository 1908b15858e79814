/**
 * Keel's soak test: the gateway in a child process under steady mixed traffic with injected faults,
 * sampled for RSS, heap (after GC), event-loop delay and open descriptors; fails on sustained growth.
 *
 *   npm run soak -- --minutes 30                    the full run (a sample a minute)
 *   npm run soak -- --minutes 2 --sample-seconds 10 the CI-sized run
 *
 * Options: --minutes N (30), --sample-seconds N (60), --warmup-seconds N (20% of the run, ≤ 300),
 * --rps N (40), --max-in-flight N (64), --store sqlite|memory (sqlite, in a temp dir),
 * --out DIR (soak/results), --no-write. Exit 0 on PASS, 1 on FAIL, 2 on bad usage or a broken harness.
 * Writes DIR/latest.json and DIR/latest.md.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSoak, type SoakOptions, writeResults } from './soak.ts';

function usage(message: string): never {
  console.error(`soak: ${message}`);
  console.error(
    'usage: npm run soak -- [--minutes 30] [--sample-seconds 60] [--warmup-seconds N] [--rps 40] [--max-in-flight 64] [--store sqlite|memory] [--out DIR] [--no-write]',
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const values = new Map<string, string>();
let write = true;
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--no-write') {
    write = false;
    continue;
  }
  const [name, inline] = arg.split('=', 2) as [string, string | undefined];
  const known = [
    '--minutes',
    '--sample-seconds',
    '--warmup-seconds',
    '--rps',
    '--max-in-flight',
    '--store',
    '--out',
  ];
  if (!known.includes(name)) usage(`unknown option ${arg}`);
  const value = inline ?? args[++i];
  if (value === undefined) usage(`${name} needs a value`);
  values.set(name, value);
}

function num(name: string, fallback: number, min: number, max: number): number {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) usage(`${name} must be a number from ${min} to ${max}`);
  return v;
}

const store = values.get('--store') ?? 'sqlite';
if (store !== 'sqlite' && store !== 'memory') usage('--store must be sqlite or memory');
const options: SoakOptions = {
  minutes: num('--minutes', 30, 0.1, 24 * 60),
  sampleSeconds: num('--sample-seconds', 60, 1, 3600),
  rps: num('--rps', 40, 1, 2000),
  maxInFlight: num('--max-in-flight', 64, 1, 4096),
  store,
  log: (line) => console.log(line),
};
if (values.has('--warmup-seconds')) options.warmupSeconds = num('--warmup-seconds', 0, 0, 24 * 3600);
if (options.sampleSeconds > options.minutes * 60) usage('--sample-seconds is longer than the run');

const out = values.get('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results');

let result: Awaited<ReturnType<typeof runSoak>>;
try {
  result = await runSoak(options);
} catch (err) {
  console.error(`soak: the harness failed: ${String(err)}`);
  process.exit(2);
}
console.log('');
for (const c of [...result.analysis.checks, ...result.health]) {
  console.log(`soak: ${c.pass ? 'pass' : 'FAIL'} ${c.name}: ${c.detail}`);
}
console.log(result.summary);
if (write) {
  writeResults(result, out);
  console.log(`soak: wrote ${join(out, 'latest.json')} and ${join(out, 'latest.md')}`);
}
process.exit(result.pass ? 0 : 1);
