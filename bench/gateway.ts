/**
 * Keel's overhead benchmark, on loopback: a fixed-answer upstream, the floor (a bare undici
 * pass-through proxy) and Keel (startGateway, full reliability stack) each run in their own child
 * process; this process only generates load (undici Pools, keep-alive) and reports.
 *
 *   npm run bench               full run (~1.5–2.5 min)
 *   npm run bench -- --quick    ~30 s smoke run (shorter phases; RSS after 10k requests, labelled)
 *   npm run bench -- --profile  also CPU-profile the floor and Keel children and print their hot spots
 *   npm run bench -- --tsx      run the server children under tsx instead of compiled JS
 *   npm run bench -- --telemetry=none|memory|sqlite   pick Keel's trace store (default: Keel's own)
 *
 * Two Keels run: tracing off (the gateway core, issue #2's row) and Keel's default, SQLite tracing
 * (issue #5's row, which must stay within 10% of the first and within the gateway-core targets);
 * --telemetry=none runs only the first, any other --telemetry picks the second's store.
 *
 * Phases: (1) memory: N requests through floor and each Keel at high concurrency, then each child's RSS,
 * live heap after a forced GC, and server CPU time per request; (2) saturated throughput of direct,
 * floor and Keel, in rounds with a rotating order (median per target); (3) sequential one-at-a-time
 * latency, the three interleaved request by request. Results: bench/results/latest.{json,md}.
 * Exit code 0 even when a target is missed (this reports, it does not gate); non-zero only when the
 * bench itself broke. See bench/README.md.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Build, buildForBench } from './lib/build.ts';
import { type ChildStats, killAll, type ServerChild, startServer } from './lib/children.ts';
import { benchConfigYaml, TELEMETRY_MODES, type TelemetryMode } from './lib/keel-config.ts';
import { counted, probe, type SaturatedResult, saturate, sequential, type Target } from './lib/load.ts';
import { formatProfile, summarizeProfile } from './lib/profile.ts';
import { markdownTable, type Row, textTable, type Verdict } from './lib/report.ts';

const argv = new Set(process.argv.slice(2));
let telemetry: TelemetryMode = 'default';
for (const arg of argv) {
  const mode = /^--telemetry=(.*)$/.exec(arg)?.[1];
  if (mode !== undefined && TELEMETRY_MODES.includes(mode as TelemetryMode)) {
    telemetry = mode as TelemetryMode;
    continue;
  }
  if (!['--quick', '--profile', '--tsx'].includes(arg)) {
    console.error(
      `unknown option ${arg}; use --quick, --profile, --tsx, --telemetry=${TELEMETRY_MODES.join('|')}`,
    );
    process.exit(2);
  }
}
const quick = argv.has('--quick');
const profile = argv.has('--profile');
/** Run the server children under the tsx loader instead of compiled JS (inflates RSS; see build.ts). */
const underTsx = argv.has('--tsx');

const SETTINGS = quick
  ? {
      mode: 'quick',
      connections: 64,
      rounds: 1,
      warmupMs: 1_000,
      durationMs: 3_000,
      seqWarmup: 200,
      seqCount: 1_000,
      memRequests: 10_000,
      hardLimitMs: 120_000,
    }
  : {
      mode: 'full',
      connections: 64,
      // Five: on this VM one round's req/s can swing 2x, enough to move a three-round median by 0.1
      // of the floor between runs of code that differs by a few µs a request.
      rounds: 5,
      warmupMs: 2_000,
      durationMs: 5_000,
      seqWarmup: 500,
      seqCount: 3_000,
      memRequests: 100_000,
      hardLimitMs: 420_000,
    };

const telemetryLabel =
  telemetry === 'default' ? "Keel's default (no telemetry section in the config)" : `store ${telemetry}`;

const TARGETS = { throughputRatio: 0.6, p50AddedMs: 0.5, rssMb: 150, tracingRatio: 0.9 };

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const profileDir = join(resultsDir, 'profiles');

// Whatever happens, the run ends: kill the children and leave after the hard limit.
const hardLimit = setTimeout(() => {
  console.error(`bench: hard time limit of ${SETTINGS.hardLimitMs / 1000} s reached; aborting`);
  killAll();
  process.exit(3);
}, SETTINGS.hardLimitMs);
hardLimit.unref();
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const t0 = performance.now();
const log = (msg: string) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
interface MemoryResult {
  before: ChildStats;
  after: ChildStats;
  afterGc: ChildStats;
  run: Awaited<ReturnType<typeof counted>>;
  cpuUsPerRequest: number;
}
interface ThroughputResult {
  /** Median of the rounds. */
  rps: number;
  rounds: SaturatedResult[];
  /** Successful answers over all rounds, warm-ups included, and the CPU time each process spent. */
  completed: number;
  cpuUs: { client: number; upstream: number; server: number };
  cpuUsPerRequest: { client: number; upstream: number; server: number; total: number };
  /**
   * What this machine's cores would sustain if wholly given to the three processes: cores / total CPU
   * time per request. Far steadier than req/s on a shared VM whose vCPUs come and go.
   */
  cpuBoundRps: number;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mb = (bytes: number) => bytes / (1024 * 1024);
const kReq = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));

async function main(): Promise<void> {
  console.log(
    `Keel gateway bench (${SETTINGS.mode}${quick ? ' smoke run: short phases, numbers are indicative only' : ''}) — ` +
      `${cpus().length} CPU(s) ${cpus()[0]?.model.trim() ?? ''}, Node ${process.version}, ` +
      `children run ${underTsx ? 'under tsx' : 'compiled JS'}; Keel telemetry: ${telemetryLabel}`,
  );
  const children: ServerChild[] = [];
  let build: Build | undefined;
  try {
    // Children run compiled JS (as Keel runs in production) unless --tsx, and always with the build
    // directory as their working directory, so nothing they write lands in the repo.
    build = buildForBench();
    const { dir } = build;
    const script = (name: string) =>
      underTsx ? fileURLToPath(new URL(`./${name}`, import.meta.url)) : build!.path(`bench/${name}`);
    const execArgv = underTsx ? ['--import', 'tsx'] : [];
    const upstream = await startServer('upstream', script('upstream-server.ts'), [], { execArgv, cwd: dir });
    children.push(upstream);
    if (profile) {
      mkdirSync(profileDir, { recursive: true });
      // Profiles are megabytes of machine-specific data: never commit them.
      writeFileSync(join(profileDir, '.gitignore'), '*\n');
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const profileName = (name: string) => `${name}-${stamp}.cpuprofile`;
    // --expose-gc only makes gc() callable (for the live-heap reading); it changes nothing else.
    const serverArgv = (name: string) => [
      ...execArgv,
      '--expose-gc',
      ...(profile
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profileName(name)}`]
        : []),
    ];
    const floor = await startServer('floor', script('floor-server.ts'), [upstream.origin], {
      execArgv: serverArgv('floor'),
      cwd: dir,
    });
    children.push(floor);
    const keel = await startServer('keel', script('keel-server.ts'), [upstream.origin, telemetry], {
      execArgv: serverArgv('keel'),
      cwd: dir,
    });
    children.push(keel);
    // The same Keel with tracing off, in the same run: what tracing costs, measured against its own
    // baseline rather than across runs on a noisy machine (issue #5's row).
    const keelOff =
      telemetry === 'none'
        ? undefined
        : await startServer('keel-off', script('keel-server.ts'), [upstream.origin, 'none'], {
            execArgv: serverArgv('keel-off'),
            cwd: dir,
          });
    if (keelOff) children.push(keelOff);
    log(
      `upstream ${upstream.origin} (pid ${upstream.pid}), floor ${floor.origin} (pid ${floor.pid}), keel ${keel.origin} (pid ${keel.pid})`,
    );

    const direct: Target = { name: 'direct', origin: upstream.origin };
    const viaFloor: Target = { name: 'floor', origin: floor.origin };
    const viaKeel: Target = { name: 'keel', origin: keel.origin };
    const targets = [direct, viaFloor, viaKeel];
    const viaKeelOff: Target | undefined = keelOff && { name: 'keel-off', origin: keelOff.origin };
    const allTargets = viaKeelOff ? [...targets, viaKeelOff] : targets;
    const throughputTargets = allTargets;

    // Requests each proxy served (for µs per request in the CPU profiles).
    const served: Record<string, number> = { direct: 0, floor: 0, keel: 0, 'keel-off': 0 };

    // Sanity: each path answers a well-formed completion, and Keel really routed it.
    for (const t of allTargets) {
      const headers = await probe(t);
      served[t.name]! += 1;
      if (t.name.startsWith('keel') && headers['x-keel-route'] !== 'bench')
        throw new Error(`keel: answer lacks x-keel-route: bench (got ${JSON.stringify(headers)})`);
    }
    // Phase 1 — memory: N requests at high concurrency into fresh children, then their RSS (as is,
    // no forced GC), then the live heap after a full GC (flat across N means no leak), and the CPU
    // time each server spent per request (less noisy than req/s on a shared machine).
    const memory: Record<string, MemoryResult> = {};
    const memoryTargets: Array<readonly [Target, ServerChild]> = [
      [viaFloor, floor],
      ...(viaKeelOff && keelOff ? [[viaKeelOff, keelOff] as const] : []),
      [viaKeel, keel],
    ];
    for (const [t, child] of memoryTargets) {
      log(
        `memory: ${kReq(SETTINGS.memRequests)} requests through ${t.name} at concurrency ${SETTINGS.connections}`,
      );
      const before = await child.stats();
      const run = await counted(t, {
        total: SETTINGS.memRequests,
        connections: SETTINGS.connections,
        maxMs: quick ? 30_000 : 90_000,
      });
      served[t.name]! += run.sent;
      const after = await child.stats();
      const afterGc = await child.stats({ gc: true });
      const cpuUsPerRequest =
        (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / Math.max(1, run.sent);
      memory[t.name] = { before, after, afterGc, run, cpuUsPerRequest };
      log(
        `  ${t.name}: ${run.ok} ok, ${run.failed} failed in ${(run.elapsedMs / 1000).toFixed(1)} s${run.timedOut ? ' (TIME LIMIT: fewer than requested)' : ''}; ` +
          `RSS ${mb(after.rss).toFixed(1)} MB (idle ${mb(before.rss).toFixed(1)} MB), heap used ${mb(after.heapUsed).toFixed(1)} MB ` +
          `of ${mb(after.heapTotal).toFixed(1)} MB, live heap after GC ${mb(afterGc.heapUsed).toFixed(1)} MB; ` +
          `server CPU ${cpuUsPerRequest.toFixed(0)} µs/request`,
      );
    }

    // Phase 2 — saturated throughput, one target at a time (the others idle), in rounds that rotate
    // the order; each target's figure is the median of its rounds, so drift hits all three alike.
    const throughput: Record<string, ThroughputResult> = {};
    const serverOf: Record<string, ServerChild | undefined> = {
      direct: undefined,
      floor,
      keel,
      'keel-off': keelOff,
    };
    const cpuOf = (s: ChildStats) => s.cpuUserUs + s.cpuSystemUs;
    const clientCpu = () => {
      const c = process.cpuUsage();
      return c.user + c.system;
    };
    for (let round = 0; round < SETTINGS.rounds; round++) {
      for (let j = 0; j < throughputTargets.length; j++) {
        const t = throughputTargets[(round + j) % throughputTargets.length]!;
        log(
          `throughput round ${round + 1}/${SETTINGS.rounds}: ${t.name}, ${SETTINGS.connections} connections, ` +
            `${SETTINGS.warmupMs / 1000} s warm-up + ${SETTINGS.durationMs / 1000} s`,
        );
        const server = serverOf[t.name];
        const before = { up: await upstream.stats(), server: await server?.stats(), client: clientCpu() };
        const r = await saturate(t, {
          connections: SETTINGS.connections,
          warmupMs: SETTINGS.warmupMs,
          durationMs: SETTINGS.durationMs,
          maxRequests: 5_000_000,
        });
        const after = { up: await upstream.stats(), server: await server?.stats(), client: clientCpu() };
        served[t.name]! += r.completed;
        const entry = throughput[t.name] ?? {
          rps: 0,
          rounds: [],
          completed: 0,
          cpuUs: { client: 0, upstream: 0, server: 0 },
          cpuUsPerRequest: { client: 0, upstream: 0, server: 0, total: 0 },
          cpuBoundRps: 0,
        };
        throughput[t.name] = entry;
        entry.rounds.push(r);
        entry.rps = median(entry.rounds.map((x) => x.rps));
        entry.completed += r.completed;
        entry.cpuUs.client += after.client - before.client;
        entry.cpuUs.upstream += cpuOf(after.up) - cpuOf(before.up);
        if (before.server && after.server) entry.cpuUs.server += cpuOf(after.server) - cpuOf(before.server);
        const per = (us: number) => us / Math.max(1, entry.completed);
        entry.cpuUsPerRequest = {
          client: per(entry.cpuUs.client),
          upstream: per(entry.cpuUs.upstream),
          server: per(entry.cpuUs.server),
          total: per(entry.cpuUs.client + entry.cpuUs.upstream + entry.cpuUs.server),
        };
        entry.cpuBoundRps = (cpus().length * 1e6) / entry.cpuUsPerRequest.total;
        const roundCpu =
          (after.client - before.client + cpuOf(after.up) - cpuOf(before.up)) / Math.max(1, r.completed) +
          (before.server && after.server
            ? (cpuOf(after.server) - cpuOf(before.server)) / Math.max(1, r.completed)
            : 0);
        log(
          `  ${t.name}: ${r.rps.toFixed(0)} req/s (${r.failed} failed), latency under load p50 ${r.latencyMs.p50.toFixed(2)} ms ` +
            `p99 ${r.latencyMs.p99.toFixed(2)} ms; CPU of all processes ${roundCpu.toFixed(0)} µs/request`,
        );
      }
    }
    if (SETTINGS.rounds > 1) {
      log(
        `  medians: ${throughputTargets.map((t) => `${t.name} ${throughput[t.name]!.rps.toFixed(0)} req/s [${throughput[t.name]!.rounds.map((x) => x.rps.toFixed(0)).join(', ')}]`).join('; ')}`,
      );
    }

    // Phase 3 — sequential latency, interleaved request by request.
    log(
      `sequential: ${SETTINGS.seqCount} requests per target after ${SETTINGS.seqWarmup} warm-up, interleaved`,
    );
    const seq = await sequential(allTargets, {
      warmup: SETTINGS.seqWarmup,
      count: SETTINGS.seqCount,
      maxMs: quick ? 20_000 : 60_000,
    });
    for (const t of allTargets) {
      const l = seq.latencyMs[t.name]!;
      log(
        `  ${t.name}: p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms (${seq.failed[t.name]} failed)`,
      );
    }
    for (const t of allTargets) served[t.name]! += SETTINGS.seqWarmup + SETTINGS.seqCount;
    const endMemory: Record<string, ChildStats> = { floor: await floor.stats(), keel: await keel.stats() };
    if (keelOff) endMemory['keel-off'] = await keelOff.stats();

    // Stop the children (a clean exit writes the CPU profiles).
    await Promise.all(children.map((c) => c.close()));
    children.length = 0;

    report({ throughput, seq, memory, endMemory });

    if (profile) {
      for (const name of ['floor', 'keel', ...(keelOff ? ['keel-off'] : [])]) {
        const file = readdirSync(profileDir).includes(profileName(name))
          ? join(profileDir, profileName(name))
          : undefined;
        if (file)
          console.log(
            `\n=== ${name} ===\n${formatProfile(summarizeProfile(file, name === 'keel' ? 25 : 12, served[name]))}`,
          );
        else console.log(`\n(no CPU profile of ${name} found in ${profileDir})`);
      }
    }
  } finally {
    await Promise.all(children.map((c) => c.close()));
    build?.cleanup();
  }
}

/**
 * Which Keel answers which issue: the gateway core (#2) is Keel with tracing off, the bench's original
 * row; the trace pipeline (#5) added "a row with tracing to SQLite on" that must stay within 10% of it
 * and within the gateway-core targets. With --telemetry=none there is only the first.
 */
interface KeelRow {
  name: 'keel-off' | 'keel';
  issue: '#2' | '#5';
  label: string;
}

function report(r: {
  throughput: Record<string, ThroughputResult>;
  seq: Awaited<ReturnType<typeof sequential>>;
  memory: Record<string, MemoryResult>;
  endMemory: Record<string, ChildStats>;
}): void {
  const rps = (name: string) => r.throughput[name]!.rps;
  const cpuRps = (name: string) => r.throughput[name]!.cpuBoundRps;
  const serverCpu = (name: string) => r.throughput[name]!.cpuUsPerRequest.server;
  const lat = (name: string) => r.seq.latencyMs[name]!;
  const added = (name: string) => ({
    p50: lat(name).p50 - lat('direct').p50,
    p99: lat(name).p99 - lat('direct').p99,
  });
  const rss = (name: string) => mb(r.memory[name]!.after.rss);
  const memLabel = kReq(SETTINGS.memRequests);
  const tracingOn = telemetry !== 'none';
  const keels: KeelRow[] = tracingOn
    ? [
        { name: 'keel-off', issue: '#2', label: 'tracing off' },
        {
          name: 'keel',
          issue: '#5',
          label: `tracing on (${telemetry === 'default' ? 'sqlite' : telemetry})`,
        },
      ]
    : [{ name: 'keel', issue: '#2', label: 'tracing off' }];
  const tracingRatio = tracingOn ? rps('keel') / rps('keel-off') : undefined;

  const verdicts: Verdict[] = [];
  const verdict = (v: Verdict): Row['result'] => {
    verdicts.push(v);
    return v.pass ? 'PASS' : 'FAIL';
  };
  const f2 = (x: number) => x.toFixed(2);
  /** Two decimals, or three when two would round a miss onto the target (0.597 shown as 0.60). */
  const near = (x: number, target: number) =>
    x.toFixed(2) === target.toFixed(2) ? x.toFixed(3) : x.toFixed(2);
  const rows: Row[] = [];
  for (const k of keels) {
    const ratio = rps(k.name) / rps('floor');
    rows.push({
      metric: `${k.issue} saturated throughput, ${k.label} (req/s)`,
      direct: rps('direct').toFixed(0),
      floor: rps('floor').toFixed(0),
      keel: rps(k.name).toFixed(0),
      ratio: near(ratio, TARGETS.throughputRatio),
      target: `>= ${TARGETS.throughputRatio.toFixed(2)}`,
      result: verdict({
        name: `${k.issue} saturated throughput keel (${k.label})/floor`,
        value: ratio,
        target: `>= ${TARGETS.throughputRatio.toFixed(2)}`,
        pass: ratio >= TARGETS.throughputRatio,
      }),
    });
  }
  if (tracingRatio !== undefined) {
    rows.push({
      metric: '#5 keel tracing off → on (req/s)',
      direct: '-',
      floor: `off ${rps('keel-off').toFixed(0)}`,
      keel: rps('keel').toFixed(0),
      ratio: near(tracingRatio, TARGETS.tracingRatio),
      target: `>= ${TARGETS.tracingRatio.toFixed(2)}`,
      result: verdict({
        name: '#5 throughput with tracing on / off',
        value: tracingRatio,
        target: `>= ${TARGETS.tracingRatio.toFixed(2)}`,
        pass: tracingRatio >= TARGETS.tracingRatio,
      }),
    });
  }
  for (const k of keels) {
    rows.push({
      metric: `CPU-bound throughput est., ${k.label}`,
      direct: cpuRps('direct').toFixed(0),
      floor: cpuRps('floor').toFixed(0),
      keel: cpuRps(k.name).toFixed(0),
      ratio: f2(cpuRps(k.name) / cpuRps('floor')),
      target: '(info)',
      result: '',
    });
  }
  for (const k of keels) {
    rows.push({
      metric: `proxy CPU per request (µs), ${k.label}`,
      direct: '-',
      floor: serverCpu('floor').toFixed(0),
      keel: serverCpu(k.name).toFixed(0),
      ratio: f2(serverCpu(k.name) / serverCpu('floor')),
      target: '',
      result: '',
    });
  }
  for (const k of keels) {
    rows.push({
      metric: `sequential p50 / p99 (ms), ${k.label}`,
      direct: `${f2(lat('direct').p50)} / ${f2(lat('direct').p99)}`,
      floor: `${f2(lat('floor').p50)} / ${f2(lat('floor').p99)}`,
      keel: `${f2(lat(k.name).p50)} / ${f2(lat(k.name).p99)}`,
      ratio: '',
      target: '',
      result: '',
    });
  }
  for (const k of keels) {
    const a = added(k.name);
    rows.push({
      metric: `${k.issue} sequential p50 added (ms), ${k.label}`,
      direct: '-',
      floor: f2(added('floor').p50),
      keel: near(a.p50, TARGETS.p50AddedMs),
      ratio: '',
      target: `<= ${TARGETS.p50AddedMs.toFixed(2)}`,
      result: verdict({
        name: `${k.issue} sequential p50 added by keel, ${k.label} (ms)`,
        value: a.p50,
        target: `<= ${TARGETS.p50AddedMs.toFixed(2)}`,
        pass: a.p50 <= TARGETS.p50AddedMs,
      }),
    });
  }
  for (const k of keels) {
    rows.push({
      metric: `${k.issue} RSS after ${memLabel} requests (MB), ${k.label}${quick ? ' [quick]' : ''}`,
      direct: '-',
      floor: rss('floor').toFixed(1),
      keel: rss(k.name).toFixed(1),
      ratio: '',
      target: `<= ${TARGETS.rssMb}`,
      result: verdict({
        name: `${k.issue} keel RSS after ${memLabel} requests, ${k.label} (MB)`,
        value: rss(k.name),
        target: `<= ${TARGETS.rssMb}`,
        pass: rss(k.name) <= TARGETS.rssMb,
      }),
    });
  }
  for (const k of keels) {
    rows.push({
      metric: `live heap after GC, ${memLabel} req (MB), ${k.label}`,
      direct: '-',
      floor: mb(r.memory.floor!.afterGc.heapUsed).toFixed(1),
      keel: mb(r.memory[k.name]!.afterGc.heapUsed).toFixed(1),
      ratio: '',
      target: '',
      result: '',
    });
  }

  const spread = Math.max(
    ...Object.values(r.throughput).map((t) => {
      const xs = t.rounds.map((x) => x.rps);
      return Math.max(...xs) / Math.max(1, Math.min(...xs));
    }),
  );
  const failures =
    Object.values(r.throughput).reduce((n, t) => n + t.rounds.reduce((m, x) => m + x.failed, 0), 0) +
    Object.values(r.seq.failed).reduce((n, x) => n + x, 0) +
    Object.values(r.memory).reduce((n, m) => n + m.run.failed, 0);
  const missed = verdicts.filter((v) => !v.pass);
  const notes = [
    quick
      ? 'QUICK smoke run: short phases and RSS after 10k (not 100k) requests; numbers are indicative only.'
      : '',
    failures > 0 ? `WARNING: ${failures} request(s) failed (non-200 or network error); see the JSON.` : '',
    r.seq.timedOut ? 'WARNING: the sequential phase hit its time limit before its count.' : '',
    spread > 1.3
      ? `NOISE: one target's req/s varied ${spread.toFixed(1)}x between rounds; this machine's CPU availability is unsteady, so read keel/floor req/s together with the CPU-bound estimate (cores / CPU time per request of all three processes).`
      : '',
    Object.values(r.memory).some((m) => m.run.timedOut)
      ? 'WARNING: a memory phase hit its time limit before its count.'
      : '',
  ].filter(Boolean);
  const missedText =
    missed.length === 0
      ? 'All targets met.'
      : `TARGETS MISSED (${missed.length}/${verdicts.length}): ${missed
          .map((v) => `${v.name} = ${v.value.toFixed(3)} (target ${v.target})`)
          .join('; ')}`;

  const table = textTable(rows);
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(n);
  console.log(missedText);

  const date = new Date().toISOString();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(mb(totalmem())),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'latest.json'),
    `${JSON.stringify(
      {
        date,
        mode: SETTINGS.mode,
        machine,
        settings: {
          ...SETTINGS,
          children: underTsx ? 'tsx loader' : 'compiled JS',
          telemetry: telemetryLabel,
        },
        targets: verdicts,
        allTargetsMet: missed.length === 0,
        summary: Object.fromEntries(
          keels.map((k) => [
            k.name,
            {
              issue: k.issue,
              label: k.label,
              throughputRps: { direct: rps('direct'), floor: rps('floor'), keel: rps(k.name) },
              throughputRatioKeelFloor: rps(k.name) / rps('floor'),
              cpuBoundThroughputRatioKeelFloor: cpuRps(k.name) / cpuRps('floor'),
              proxyCpuUsPerRequest: { floor: serverCpu('floor'), keel: serverCpu(k.name) },
              sequentialMs: { direct: lat('direct'), floor: lat('floor'), keel: lat(k.name) },
              sequentialAddedMs: { floor: added('floor'), keel: added(k.name) },
              rssMbAfterRequests: { requests: SETTINGS.memRequests, floor: rss('floor'), keel: rss(k.name) },
            },
          ]),
        ),
        tracingOnOffRatio: tracingRatio,
        raw: r,
        keelConfig: benchConfigYaml('http://127.0.0.1:UPSTREAM_PORT', telemetry),
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(resultsDir, 'latest.md'),
    [
      `# Keel gateway bench — ${date}`,
      '',
      `Mode: **${SETTINGS.mode}**. Machine: ${machine.cpus} CPU(s) ${machine.cpuModel}, ${machine.memoryMb} MB, Node ${machine.node}, ${machine.platform}.`,
      `Keel telemetry: ${telemetryLabel}. Children: ${underTsx ? 'tsx loader' : 'compiled JS'}.`,
      `Loopback; upstream, floor and Keel each in a child process; load from a separate process (undici Pool, keep-alive).`,
      `Throughput: ${SETTINGS.connections} connections, ${SETTINGS.warmupMs / 1000} s warm-up + ${SETTINGS.durationMs / 1000} s, median of ${SETTINGS.rounds} round(s). ` +
        `Sequential: ${SETTINGS.seqCount} requests per target after ${SETTINGS.seqWarmup}, interleaved. ` +
        `RSS: after ${SETTINGS.memRequests} requests at concurrency ${SETTINGS.connections}.`,
      '',
      markdownTable(rows),
      '',
      ...notes.map((n) => `> ${n}`),
      notes.length > 0 ? '' : '',
      `**${missedText}**`,
      '',
    ].join('\n'),
  );
  console.log(
    `\nwrote bench/results/latest.json and bench/results/latest.md (${((performance.now() - t0) / 1000).toFixed(0)} s total)`,
  );
}

main().then(
  () => {
    clearTimeout(hardLimit);
    process.exit(0);
  },
  (err: unknown) => {
    console.error('bench failed:', err);
    killAll();
    process.exit(1);
  },
);
