/**
 * The soak's verdict: least-squares lines through the samples taken after the warm-up. A leak is
 * growth that is steep (per hour), real (the fitted growth over the measured window exceeds a floor,
 * so a short run's noise cannot fail it) and sustained (the later half of the window still grows that
 * fast, so memory that climbs to a plateau, like a worker thread's heap warming up, does not fail it);
 * file descriptors also fail when they only ever rise.
 */

export interface Point {
  /** Seconds since traffic started. */
  t: number;
  rssMB: number;
  heapMB: number;
  fds: number;
  elP99Ms: number;
}

export interface Fit {
  /** Units per hour. */
  slopePerHour: number;
  /** Fitted growth from the first to the last analysed sample. */
  growth: number;
  r2: number;
}

export interface Thresholds {
  /** Heap used after GC: fail above this slope (MB/h) when the fitted growth also exceeds heapFloorMB. */
  heapMBPerHour: number;
  heapFloorMB: number;
  rssMBPerHour: number;
  rssFloorMB: number;
  /** Descriptors: fail above this fitted growth over the window, or on monotonic growth of at least fdSlack. */
  fdGrowth: number;
  fdSlack: number;
  /** Event loop: fail when the median p99 delay after the warm-up exceeds this. */
  elP99Ms: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  heapMBPerHour: 8,
  heapFloorMB: 3,
  rssMBPerHour: 32,
  rssFloorMB: 16,
  fdGrowth: 50,
  fdSlack: 5,
  elP99Ms: 250,
};

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface Analysis {
  pass: boolean;
  checks: Check[];
  analysed: number;
  fits: { rss: Fit; heap: Fit; fds: Fit };
  /** The same fits over the later half of the analysed samples. */
  late: { rss: Fit; heap: Fit };
}

/** Ordinary least squares of y on t (seconds); slope reported per hour. */
export function fit(t: number[], y: number[]): Fit {
  const n = t.length;
  if (n < 2) return { slopePerHour: 0, growth: 0, r2: 0 };
  const mt = t.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - mt;
    const dy = y[i]! - my;
    sxy += dt * dy;
    sxx += dt * dt;
    syy += dy * dy;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const r2 = sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slopePerHour: slope * 3600, growth: slope * (t[n - 1]! - t[0]!), r2 };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const f1 = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(1);

/** Judge the samples at or after `warmupSeconds`. At least three are needed for a verdict. */
export function analyze(
  points: Point[],
  warmupSeconds: number,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): Analysis {
  const after = points.filter((p) => p.t >= warmupSeconds);
  const t = after.map((p) => p.t);
  const fits = {
    rss: fit(
      t,
      after.map((p) => p.rssMB),
    ),
    heap: fit(
      t,
      after.map((p) => p.heapMB),
    ),
    fds: fit(
      t,
      after.map((p) => p.fds),
    ),
  };
  const later = after.slice(Math.floor(after.length / 2));
  const lt = later.map((p) => p.t);
  const late = {
    rss: fit(
      lt,
      later.map((p) => p.rssMB),
    ),
    heap: fit(
      lt,
      later.map((p) => p.heapMB),
    ),
  };
  const checks: Check[] = [];
  if (after.length < 3) {
    checks.push({
      name: 'samples',
      pass: false,
      detail: `${after.length} samples after the warm-up; need at least 3`,
    });
    return { pass: false, checks, analysed: after.length, fits, late };
  }
  /** Steep and real over the window, and still as steep over its later half. */
  const grows = (f: Fit, l: Fit, perHour: number, floor: number) =>
    f.slopePerHour > perHour && f.growth > floor && l.slopePerHour > perHour;
  checks.push({
    name: 'heap',
    pass: !grows(fits.heap, late.heap, thresholds.heapMBPerHour, thresholds.heapFloorMB),
    detail: `heap used after GC ${f1(fits.heap.slopePerHour)} MB/h (${f1(fits.heap.growth)} MB over the window, r² ${fits.heap.r2.toFixed(2)}; later half ${f1(late.heap.slopePerHour)} MB/h); limit ${thresholds.heapMBPerHour} MB/h and ${thresholds.heapFloorMB} MB`,
  });
  checks.push({
    name: 'rss',
    pass: !grows(fits.rss, late.rss, thresholds.rssMBPerHour, thresholds.rssFloorMB),
    detail: `RSS ${f1(fits.rss.slopePerHour)} MB/h (${f1(fits.rss.growth)} MB over the window, r² ${fits.rss.r2.toFixed(2)}; later half ${f1(late.rss.slopePerHour)} MB/h); limit ${thresholds.rssMBPerHour} MB/h and ${thresholds.rssFloorMB} MB`,
  });
  const fds = after.map((p) => p.fds);
  const monotonic =
    fds.every((v, i) => i === 0 || v >= fds[i - 1]!) && fds.at(-1)! - fds[0]! >= thresholds.fdSlack;
  const fdsOk = !monotonic && fits.fds.growth <= thresholds.fdGrowth;
  checks.push({
    name: 'fds',
    pass: fdsOk,
    detail: `open fds ${fds[0]} → ${fds.at(-1)} (min ${Math.min(...fds)}, max ${Math.max(...fds)}, fitted ${f1(fits.fds.growth)} over the window)${monotonic ? ', rising at every sample' : ''}`,
  });
  const el = median(after.map((p) => p.elP99Ms));
  checks.push({
    name: 'event loop',
    pass: el <= thresholds.elP99Ms,
    detail: `event-loop delay p99 median ${el.toFixed(1)} ms (max sample ${Math.max(...after.map((p) => p.elP99Ms)).toFixed(1)} ms); limit ${thresholds.elP99Ms} ms`,
  });
  return { pass: checks.every((c) => c.pass), checks, analysed: after.length, fits, late };
}
