/**
 * The soak: Keel in a child process under steady mixed traffic with faults, sampled every
 * `sampleSeconds`; after the run, a verdict on growth (soak/analyze.ts). Used by soak/run.ts (the CLI)
 * and test/load/soak-short.test.ts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Analysis, analyze, DEFAULT_THRESHOLDS, type Point, type Thresholds } from './analyze.ts';
import { soakConfigYaml } from './config.ts';
import { type ChildSample, isChildMessage } from './protocol.ts';
import { Traffic, type TrafficSnapshot } from './traffic.ts';

export interface SoakOptions {
  minutes: number;
  sampleSeconds: number;
  /**
   * Seconds excluded from the verdict; default 20% of the run (with the SQLite store at least half the
   * run up to 3 min), at least one sample, at most 5 min.
   */
  warmupSeconds?: number;
  rps: number;
  maxInFlight: number;
  store: 'sqlite' | 'memory';
  thresholds?: Partial<Thresholds>;
  /** Print each sample as it comes (the CLI does; tests may not). */
  log?: (line: string) => void;
}

export interface Sample extends ChildSample {
  /** Seconds since traffic started (0: the baseline before any traffic). */
  t: number;
  traffic: TrafficSnapshot;
}

export interface SoakResult {
  options: SoakOptions & { warmupSeconds: number };
  startedAt: string;
  durationSeconds: number;
  samples: Sample[];
  traffic: TrafficSnapshot;
  analysis: Analysis;
  /** Problems outside the growth checks: the child died, requests hung, answers broke the contract. */
  health: Array<{ name: string; pass: boolean; detail: string }>;
  pass: boolean;
  summary: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const MB = 1024 * 1024;

interface Child {
  url: string;
  pid: number;
  exited: () => string | undefined;
  sample(gc: boolean): Promise<ChildSample>;
  close(): Promise<void>;
}

async function startChild(configPath: string): Promise<Child> {
  const child: ChildProcess = fork(join(here, 'child.ts'), [configPath], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited with ${signal ?? `code ${code}`}`;
  });
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('soak gateway not ready within 30 s'));
    }, 30_000);
    child.on('message', (msg: unknown) => {
      if (isChildMessage(msg) && msg.type === 'ready') {
        clearTimeout(timer);
        resolve({ url: msg.url, pid: msg.pid });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`soak gateway exited with code ${code} before it was ready`));
    });
  });
  let nextId = 1;
  return {
    ...ready,
    exited: () => exit,
    sample(gc) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error('soak gateway gave no sample within 10 s'));
        }, 10_000);
        const onMessage = (msg: unknown) => {
          if (!isChildMessage(msg) || msg.type !== 'sample' || msg.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(msg.sample);
        };
        child.on('message', onMessage);
        if (!child.connected) {
          clearTimeout(timer);
          reject(new Error(`soak gateway is gone (${exit ?? 'disconnected'})`));
          return;
        }
        child.send({ type: 'sample', id, gc });
      });
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function formatRow(s: Sample, prev: Sample | undefined): string {
  const dt = prev ? s.t - prev.t : 0;
  const rate = prev && dt > 0 ? ((s.traffic.finished - prev.traffic.finished) / dt).toFixed(1) : '-';
  const cells = [
    String(Math.round(s.t)).padStart(6),
    (s.rssBytes / MB).toFixed(1).padStart(8),
    (s.heapUsedBytes / MB).toFixed(1).padStart(8),
    (s.heapTotalBytes / MB).toFixed(1).padStart(8),
    (s.externalBytes / MB).toFixed(1).padStart(7),
    s.eventLoop.p99Ms.toFixed(1).padStart(7),
    s.eventLoop.maxMs.toFixed(1).padStart(7),
    String(s.fds).padStart(5),
    String(s.handles).padStart(7),
    rate.padStart(6),
    String(s.traffic.finished).padStart(8),
    String(s.traffic.inFlight).padStart(6),
    String(s.recorder.written).padStart(8),
    String(s.recorder.dropped).padStart(7),
  ];
  return cells.join(' ');
}

export const TABLE_HEADER = [
  '   t s',
  '  rss MB',
  ' heap MB',
  'heapTot',
  '  ext MB',
  'el p99',
  ' el max',
  '  fds',
  'handles',
  ' req/s',
  '    reqs',
  'flight',
  ' traced',
  'dropped',
].join(' ');

/** Run the soak; never throws for a failing gateway (that is a failing verdict), only for a broken harness. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const durationSeconds = Math.max(1, options.minutes * 60);
  // The SQLite trace writer runs in a worker thread whose heap (not collected by the forced GC) grows
  // for about three minutes before it levels off: give it that long when the run allows.
  const warmupSeconds =
    options.warmupSeconds ??
    Math.min(
      300,
      Math.max(
        options.sampleSeconds,
        Math.round(durationSeconds * 0.2),
        options.store === 'sqlite' ? Math.min(180, Math.round(durationSeconds * 0.5)) : 0,
      ),
    );
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const dir = mkdtempSync(join(tmpdir(), 'keel-soak-'));
  const configPath = join(dir, 'keel.yaml');
  writeFileSync(configPath, soakConfigYaml({ store: options.store, dbPath: join(dir, 'keel.db') }));
  const startedAt = new Date().toISOString();
  const child = await startChild(configPath);
  const traffic = new Traffic(child.url, {
    rps: options.rps,
    maxInFlight: options.maxInFlight,
    timeoutMs: 15_000,
  });
  const samples: Sample[] = [];
  const health: SoakResult['health'] = [];
  // A hard bound on the whole run, whatever happens.
  const hardLimit = setTimeout(
    () => {
      log('soak: hard time limit reached; stopping');
      void child.close();
    },
    (durationSeconds + 120) * 1000,
  );
  hardLimit.unref();
  let t0 = 0;
  try {
    log(
      `soak: gateway pid ${child.pid} at ${child.url}; ${options.minutes} min, a sample every ${options.sampleSeconds} s, warm-up ${warmupSeconds} s, ` +
        `${options.rps} req/s (at most ${options.maxInFlight} in flight), store ${options.store}`,
    );
    log(TABLE_HEADER);
    const take = async (t: number) => {
      const s: Sample = { ...(await child.sample(true)), t, traffic: traffic.snapshot() };
      log(formatRow(s, samples.at(-1)));
      samples.push(s);
    };
    await take(0);
    t0 = performance.now();
    traffic.start();
    for (let k = 1; k * options.sampleSeconds <= durationSeconds; k++) {
      await sleep(Math.max(0, t0 + k * options.sampleSeconds * 1000 - performance.now()));
      if (child.exited()) break;
      await take((performance.now() - t0) / 1000);
    }
  } catch (err) {
    health.push({ name: 'harness', pass: false, detail: String(err) });
  } finally {
    clearTimeout(hardLimit);
    await traffic.stop();
    const died = child.exited();
    await child.close();
    health.push({
      name: 'gateway process',
      pass: died === undefined,
      detail: died ? `the gateway ${died} during the run` : 'alive until the end',
    });
    rmSync(dir, { recursive: true, force: true });
  }
  const snap = traffic.snapshot();
  health.push({
    name: 'answers',
    pass: snap.unexpected === 0,
    detail:
      snap.unexpected === 0
        ? `every answer was expected (${snap.timeouts} hangs, ${snap.transportErrors} transport errors)`
        : `${snap.unexpected} unexpected (${snap.timeouts} hangs, ${snap.transportErrors} transport errors): ${snap.examples.slice(0, 3).join(' | ')}`,
  });
  health.push({
    name: 'rate',
    pass: snap.skipped <= snap.started * 0.01,
    detail: `${snap.started} requests started, ${snap.skipped} skipped because ${options.maxInFlight} were in flight`,
  });
  const points: Point[] = samples
    .filter((s) => s.t > 0)
    .map((s) => ({
      t: s.t,
      rssMB: s.rssBytes / MB,
      heapMB: s.heapUsedBytes / MB,
      fds: s.fds,
      elP99Ms: s.eventLoop.p99Ms,
    }));
  const analysis = analyze(points, warmupSeconds, thresholds);
  const pass = analysis.pass && health.every((h) => h.pass);
  const statuses = Object.entries(snap.statuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  const byName = (name: string) => analysis.checks.find((c) => c.name === name);
  const summary =
    `soak: ${pass ? 'PASS' : 'FAIL'} — ${samples.length} samples over ${Math.round(samples.at(-1)?.t ?? 0)} s ` +
    `(${analysis.analysed} after a ${warmupSeconds} s warm-up); heap ${analysis.fits.heap.slopePerHour.toFixed(1)} MB/h, ` +
    `RSS ${analysis.fits.rss.slopePerHour.toFixed(1)} MB/h, fds ${points[0]?.fds ?? '?'}→${points.at(-1)?.fds ?? '?'}, ` +
    `${byName('event loop')?.detail.split(';')[0] ?? ''}; ${snap.finished} requests (${statuses}), ` +
    `${snap.streamsDone} streams done, ${snap.streamsErrored} cut mid-stream, ${snap.disconnects} client hang-ups, ${snap.unexpected} unexpected`;
  return {
    options: { ...options, warmupSeconds, thresholds },
    startedAt,
    durationSeconds,
    samples,
    traffic: snap,
    analysis,
    health,
    pass,
    summary,
  };
}

export function markdownReport(r: SoakResult): string {
  const rows = r.samples.map((s, i) => {
    const prev = r.samples[i - 1];
    const dt = prev ? s.t - prev.t : 0;
    const rate = prev && dt > 0 ? ((s.traffic.finished - prev.traffic.finished) / dt).toFixed(1) : '-';
    return `| ${Math.round(s.t)} | ${(s.rssBytes / MB).toFixed(1)} | ${(s.heapUsedBytes / MB).toFixed(1)} | ${(s.externalBytes / MB).toFixed(1)} | ${s.eventLoop.p99Ms.toFixed(1)} | ${s.eventLoop.maxMs.toFixed(1)} | ${s.fds} | ${s.handles} | ${rate} | ${s.traffic.finished} | ${s.recorder.written} |`;
  });
  const checks = [...r.analysis.checks, ...r.health].map(
    (c) => `| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${c.detail} |`,
  );
  return [
    `# Soak: ${r.pass ? 'PASS' : 'FAIL'}`,
    '',
    `Started ${r.startedAt}; ${r.options.minutes} min, a sample every ${r.options.sampleSeconds} s, warm-up ${r.options.warmupSeconds} s; ${r.options.rps} req/s, at most ${r.options.maxInFlight} in flight; trace store ${r.options.store}. Node ${process.version}.`,
    '',
    r.summary,
    '',
    '| check | verdict | detail |',
    '| --- | --- | --- |',
    ...checks,
    '',
    'Heap is measured right after a forced full GC (the child runs with --expose-gc); event-loop delay is per sample interval.',
    '',
    '| t (s) | RSS MB | heap MB | external MB | el p99 ms | el max ms | fds | handles | req/s | requests | traces written |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Statuses: ${Object.entries(r.traffic.statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ')}.`,
    '',
  ].join('\n');
}

export function writeResults(r: SoakResult, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), markdownReport(r));
}
