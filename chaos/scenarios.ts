/**
 * Game days: each scenario is a load, a timeline of faults and the thresholds it must meet, side by
 * side. `npm run chaos` runs them all (about 6½ minutes); `--short` shortens every timeline (CI, about
 * 1½ minutes); the thresholds are the same in both modes.
 *
 * Every scenario runs against a fresh gateway started from GAME_DAY_CONFIG on loopback: one route
 * `chat` with two simulated models, `primary` then `backup`. Faults are injected on models through
 * the ChaosController, so they are classified exactly like an upstream's.
 */
import type { Fault } from '../src/chaos/faults.ts';

/**
 * The gateway under test. The numbers here are what the thresholds below are derived from:
 * - breaker opens at ≥ 50% failures over the last 20 calls (at least 10), stays open 2 s, then probes;
 * - primary: 1 s per attempt, streams included (500 ms to first token), 400 ms stall, 1 retry;
 * - route deadline 5 s, so no answer may take longer than 5 s (the client gives up at 7 s).
 * Simulated models answer in ~40 ms p50 / 150 ms p99 (never above 450 ms, the simulator's cap).
 */
export const GAME_DAY_CONFIG = `
server: { host: 127.0.0.1, logLevel: silent }
chaos: { enabled: true }
telemetry: { store: { type: none } }
control: { store: { type: memory } }
breaker: { failureRate: 0.5, window: 20, minCalls: 10, openMs: 2000 }
providers:
  sim: { type: simulated }
models:
  primary:
    provider: sim
    model: sim-primary
    simulate: { ttftMs: { p50: 40, p99: 150 }, tokensPerSecond: 1000, outputTokens: 12 }
  backup:
    provider: sim
    model: sim-backup
    simulate: { ttftMs: { p50: 40, p99: 150 }, tokensPerSecond: 1000, outputTokens: 12 }
routes:
  chat:
    deadlineMs: 5000
    retryBudget: 2
    targets:
      - model: primary
        timeoutMs: 1000
        firstTokenTimeoutMs: 500
        stallTimeoutMs: 400
        retry: { max: 1, baseDelayMs: 50, maxDelayMs: 200 }
      - model: backup
        timeoutMs: 2000
        stallTimeoutMs: 1000
        retry: { max: 1, baseDelayMs: 50, maxDelayMs: 200 }
`;

export const ROUTE = 'chat';
export const PRIMARY = 'primary';
/** The client's own timeout: the route deadline plus 2 s. A request that hits it is "unanswered". */
export const CLIENT_TIMEOUT_MS = 7000;

export type Mode = 'full' | 'short';

export type Step = { atMs: number; inject: string; fault: Fault } | { atMs: number; clear: string };

export interface Load {
  /** Requests per second, open loop: sent on schedule whether or not earlier ones were answered. */
  rps: number;
  durationMs: number;
  /** Share of requests that stream (`stream: true`). */
  streamShare: number;
  /** Rate changes: from `fromMs` on, send `rps`. */
  phases?: Array<{ fromMs: number; rps: number }>;
}

export interface Thresholds {
  /** Answered OK ÷ offered. */
  minSuccess?: number;
  /** Client timeouts, connection errors, truncated streams, unreadable answers. Always 0. */
  maxUnanswered: number;
  /** p99 latency of every answered request (OK or clear error), ms. */
  maxP99Ms?: number;
  /** Fault start → primary breaker open, worst fault window, ms. */
  maxDetectMs?: number;
  /** Fault end → first answer from the primary, worst fault window, ms. */
  maxRecoverMs?: number;
  /** The fault must surface to clients as at least this many clear errors. */
  minClearErrors?: number;
  /** p99 latency of the clear errors alone, ms ("fail fast, never hang"). */
  maxErrorP99Ms?: number;
  /** Every clear error has one of these HTTP statuses. */
  errorStatuses?: number[];
  /** Every clear error has one of these codes. */
  errorCodes?: string[];
  /** Breaker transitions of all models. */
  minTransitions?: number;
}

export interface Scenario {
  name: string;
  description: string;
  load: Load;
  timeline: Step[];
  /** Clients that open connections and send their headers a byte at a time, never finishing. */
  slowLoris?: { connections: number; byteEveryMs: number };
  thresholds: Thresholds;
}

/** The usual shape: healthy, then `fault` on `targets` for a while, then healthy again. */
function faultWindow(
  targets: string[],
  fault: Fault,
  t: { before: number; during: number; after: number },
): { durationMs: number; timeline: Step[] } {
  const end = t.before + t.during;
  return {
    durationMs: end + t.after,
    timeline: [
      ...targets.map((target) => ({ atMs: t.before, inject: target, fault })),
      ...targets.map((target) => ({ atMs: end, clear: target })),
    ],
  };
}

export function scenarios(mode: Mode): Scenario[] {
  const T = (full: number, short: number) => (mode === 'short' ? short : full);
  const usual = { before: T(5000, 1000), during: T(20_000, 3000), after: T(15_000, 4000) };

  const outage = faultWindow([PRIMARY], { status: 503 }, { ...usual, during: T(30_000, 5000) });
  const brownout = faultWindow([PRIMARY], { latencyMs: 1000 }, usual);
  const storm = faultWindow([PRIMARY], { rateLimit: true, retryAfterMs: 1000 }, usual);
  const cuts = faultWindow([PRIMARY], { cutStreamAfter: 3 }, usual);
  const garbage = faultWindow([PRIMARY], { garbage: true }, usual);
  const hung = faultWindow([PRIMARY], { hangRate: 1 }, usual);
  const allDown = faultWindow([PRIMARY, 'backup'], { status: 503 }, usual);

  const period = T(5000, 2500);
  const cycles = T(3, 2);
  const flapStart = T(5000, 1000);
  const flapTimeline: Step[] = [];
  for (let i = 0; i < cycles; i++) {
    const down = flapStart + 2 * i * period;
    flapTimeline.push({ atMs: down, inject: PRIMARY, fault: { status: 503 } });
    flapTimeline.push({ atMs: down + period, clear: PRIMARY });
  }
  const flapDuration = flapStart + 2 * cycles * period + T(5000, 1000);

  const spikeAt = T(5000, 2000);
  const spikeFor = T(10_000, 3000);

  return [
    {
      name: 'primary-outage',
      description: `the primary answers 503 to everything for ${T(30, 5)} s, then recovers`,
      load: { rps: 50, durationMs: outage.durationMs, streamShare: 0.2 },
      timeline: outage.timeline,
      // Fallback hides the outage entirely; the breaker notices within ~10 failed calls (0.2 s at
      // 50 rps) and lets the primary back in with one probe within openMs (2 s) of its recovery.
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 1500,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: 'brownout',
      description: 'the primary gets over 10× slower (+1 s on a ~50 ms answer): past its 1 s timeout',
      load: { rps: 50, durationMs: brownout.durationMs, streamShare: 0.2 },
      timeline: brownout.timeline,
      // Until the breaker opens a request may spend 2 × 1 s on the primary (streams: 2 × 500 ms to
      // the first token) before the backup answers: p99 ≤ 3 s. Timeouts count for the breaker, so it
      // opens soon after the first ones time out (~1 s).
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 3000,
        maxDetectMs: 3000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: '429-storm',
      description: 'the primary answers 429 with Retry-After: 1 s to everything',
      load: { rps: 50, durationMs: storm.durationMs, streamShare: 0.2 },
      timeline: storm.timeline,
      // Retry-After (1 s) fits the 5 s deadline, so early requests wait it once before falling back.
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 2500,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: 'flapping',
      description: `the primary goes down (503) and up every ${period / 1000} s, ${cycles} times`,
      load: { rps: 50, durationMs: flapDuration, streamShare: 0.2 },
      timeline: flapTimeline,
      // Each down phase must open the breaker and each up phase must close it again (≥ 2 transitions
      // per cycle: closed→open and half-open→closed, plus closed→half-open in between).
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 1500,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
        minTransitions: 3 * cycles,
      },
    },
    {
      name: 'stream-cuts',
      description: 'streams from the primary break off after 3 chunks (mid-answer)',
      load: { rps: 40, durationMs: cuts.durationMs, streamShare: 1 },
      timeline: cuts.timeline,
      // After the first byte there is no failover: a cut must reach the client as an error event
      // (a clear error, code KEEL_STREAM_CUT), never as a quietly truncated OK. The breaker takes the
      // primary out after ~10 cuts; each 2 s half-open probe costs one more cut.
      thresholds: {
        minSuccess: 0.85,
        maxUnanswered: 0,
        minClearErrors: 1,
        errorCodes: ['KEEL_STREAM_CUT'],
        maxP99Ms: 1500,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: 'garbage-bodies',
      description: 'the primary answers unparseable bodies',
      load: { rps: 50, durationMs: garbage.durationMs, streamShare: 0.2 },
      timeline: garbage.timeline,
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 1500,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: 'hung-upstream',
      description: 'the primary accepts every call and never answers',
      load: { rps: 50, durationMs: hung.durationMs, streamShare: 0.2 },
      timeline: hung.timeline,
      // A hung call costs its timeout (1 s; 500 ms to the first token for streams), twice with the
      // retry, before the backup answers: p99 ≤ 3 s. Timeouts count for the breaker.
      thresholds: {
        minSuccess: 0.999,
        maxUnanswered: 0,
        maxP99Ms: 3000,
        maxDetectMs: 3000,
        maxRecoverMs: 10_000,
      },
    },
    {
      name: 'slow-loris',
      description: `${T(500, 200)} clients trickle request headers a byte every 100 ms and never finish`,
      load: { rps: 50, durationMs: T(20_000, 5000), streamShare: 0.2 },
      timeline: [],
      slowLoris: { connections: T(500, 200), byteEveryMs: 100 },
      // The gateway must keep serving everyone else as if nothing happened.
      thresholds: { minSuccess: 0.999, maxUnanswered: 0, maxP99Ms: 1000 },
    },
    {
      name: 'traffic-spike',
      description: `traffic jumps 10× (20 → 200 rps) for ${spikeFor / 1000} s`,
      load: {
        rps: 20,
        durationMs: spikeAt + spikeFor + T(10_000, 2000),
        streamShare: 0.2,
        phases: [
          { fromMs: spikeAt, rps: 200 },
          { fromMs: spikeAt + spikeFor, rps: 20 },
        ],
      },
      timeline: [],
      thresholds: { minSuccess: 0.999, maxUnanswered: 0, maxP99Ms: 1500 },
    },
    {
      name: 'all-down',
      description: 'every model of the route answers 503: each request must get a clear 503 quickly',
      load: { rps: 50, durationMs: allDown.durationMs, streamShare: 0.2 },
      timeline: allDown.timeline,
      // No success threshold: there is nothing to succeed with. Every request must still be answered,
      // with 503 KEEL_ALL_TARGETS_FAILED, fast (breakers open → no upstream call at all), and the
      // route must come back by itself.
      thresholds: {
        maxUnanswered: 0,
        minClearErrors: 1,
        errorStatuses: [503],
        maxErrorP99Ms: 1000,
        maxDetectMs: 2000,
        maxRecoverMs: 10_000,
      },
    },
  ];
}
