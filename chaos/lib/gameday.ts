/**
 * One game day: start a gateway on loopback, put load on it, play a timeline of faults through the
 * ChaosController, and measure what clients saw against the scenario's thresholds.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ChaosController } from '../../src/chaos/controller.ts';
import { type Chaos, wrapRouter } from '../../src/chaos/setup.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type Gateway, startGateway } from '../../src/server/gateway.ts';
import {
  CLIENT_TIMEOUT_MS,
  GAME_DAY_CONFIG,
  type Mode,
  PRIMARY,
  ROUTE,
  type Scenario,
  type Step,
  scenarios,
  type Thresholds,
} from '../scenarios.ts';
import { type LorisResult, openLoop, type Sample, slowLoris } from './load.ts';

export interface Transition {
  target: string;
  from: string;
  to: string;
  /** ms since the scenario started. */
  atMs: number;
}

export interface FaultWindow {
  startMs: number;
  endMs?: number;
  detectMs?: number;
  recoverMs?: number;
}

export interface Check {
  name: string;
  limit: string;
  actual: string;
  pass: boolean;
}

export interface ScenarioResult {
  name: string;
  description: string;
  mode: Mode;
  passed: boolean;
  durationMs: number;
  offered: number;
  ok: number;
  clearErrors: number;
  unanswered: number;
  unansweredReasons: Record<string, number>;
  successRate: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  errorLatencyP99Ms?: number;
  fallbackRate: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
  transitions: Transition[];
  windows: FaultWindow[];
  detectMs?: number;
  recoverMs?: number;
  /** Calls the injected faults reached, per model. */
  chaosApplied: Record<string, number>;
  timeline: Array<{ atMs: number; action: string }>;
  slowLoris?: LorisResult;
  /**
   * Event-loop delay p99 of this process (gateway and clients share it) during the run. When it is
   * high the machine was busy and every latency above includes that wait.
   */
  loopLagP99Ms: number;
  thresholds: Thresholds;
  checks: Check[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const count = <T extends string>(values: T[]) =>
  values.reduce<Record<string, number>>((acc, v) => {
    acc[v] = (acc[v] ?? 0) + 1;
    return acc;
  }, {});

/** Fault windows on the primary from the steps as they were applied. */
export function faultWindows(applied: Array<{ atMs: number; step: Step }>): FaultWindow[] {
  const windows: FaultWindow[] = [];
  let open: FaultWindow | undefined;
  for (const { atMs, step } of applied) {
    if ('inject' in step && step.inject === PRIMARY && open === undefined) {
      open = { startMs: atMs };
      windows.push(open);
    }
    if ('clear' in step && step.clear === PRIMARY && open !== undefined) {
      open.endMs = atMs;
      open = undefined;
    }
  }
  return windows;
}

/**
 * Time to detect: fault start → the primary's breaker opens (0 when it was open already).
 * Time to recover: fault end → the first request sent after it is answered by the primary.
 */
export function measureWindows(windows: FaultWindow[], transitions: Transition[], samples: Sample[]): void {
  const primary = transitions.filter((t) => t.target === PRIMARY);
  windows.forEach((w, i) => {
    const before = primary.filter((t) => t.atMs < w.startMs).at(-1);
    if (before?.to === 'open') w.detectMs = 0;
    else {
      const opened = primary.find(
        (t) => t.to === 'open' && t.atMs >= w.startMs && t.atMs <= (w.endMs ?? Infinity),
      );
      if (opened) w.detectMs = opened.atMs - w.startMs;
    }
    if (w.endMs === undefined) return;
    const end = w.endMs;
    const nextStart = windows[i + 1]?.startMs ?? Infinity;
    const served = samples.find(
      (s) => s.sentAt >= end && s.sentAt < nextStart && s.outcome === 'ok' && s.target === PRIMARY,
    );
    if (served) w.recoverMs = served.doneAt - end;
  });
}

/** 100%, 99.9%, 95.59%: as many decimals as it takes, at most two. */
const pct = (x: number) => (x < 1 && x > 0.9999 ? '>99.99%' : `${Number((100 * x).toFixed(2))}%`);
const ms = (x: number | undefined) =>
  x === undefined ? 'never' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x} ms`;

export function evaluate(result: Omit<ScenarioResult, 'checks' | 'passed'>, t: Thresholds): Check[] {
  const checks: Check[] = [];
  const add = (name: string, limit: string, actual: string, pass: boolean) =>
    checks.push({ name, limit, actual, pass });
  add('unanswered', `≤ ${t.maxUnanswered}`, String(result.unanswered), result.unanswered <= t.maxUnanswered);
  if (t.minSuccess !== undefined)
    add('success', `≥ ${pct(t.minSuccess)}`, pct(result.successRate), result.successRate >= t.minSuccess);
  if (t.maxP99Ms !== undefined)
    add('p99', `≤ ${ms(t.maxP99Ms)}`, ms(result.latencyMs.p99), result.latencyMs.p99 <= t.maxP99Ms);
  if (t.minClearErrors !== undefined)
    add(
      'clear errors',
      `≥ ${t.minClearErrors}`,
      String(result.clearErrors),
      result.clearErrors >= t.minClearErrors,
    );
  if (t.maxErrorP99Ms !== undefined)
    add(
      'error p99',
      `≤ ${ms(t.maxErrorP99Ms)}`,
      ms(result.errorLatencyP99Ms),
      result.errorLatencyP99Ms !== undefined && result.errorLatencyP99Ms <= t.maxErrorP99Ms,
    );
  if (t.errorStatuses !== undefined) {
    const other = Object.keys(result.statuses).filter(
      (s) => s !== '200' && !t.errorStatuses!.includes(Number(s)),
    );
    add(
      'error statuses',
      t.errorStatuses.join('|'),
      Object.keys(result.statuses).join(',') || '-',
      other.length === 0,
    );
  }
  if (t.errorCodes !== undefined) {
    const other = Object.keys(result.errorCodes).filter((c) => !t.errorCodes!.includes(c));
    add(
      'error codes',
      t.errorCodes.join('|'),
      Object.keys(result.errorCodes).join(',') || '-',
      other.length === 0,
    );
  }
  if (t.minTransitions !== undefined)
    add(
      'transitions',
      `≥ ${t.minTransitions}`,
      String(result.transitions.length),
      result.transitions.length >= t.minTransitions,
    );
  if (t.maxDetectMs !== undefined)
    add(
      'detect',
      `≤ ${ms(t.maxDetectMs)}`,
      ms(result.detectMs),
      result.windows.length > 0 && result.detectMs !== undefined && result.detectMs <= t.maxDetectMs,
    );
  if (t.maxRecoverMs !== undefined)
    add(
      'recover',
      `≤ ${ms(t.maxRecoverMs)}`,
      ms(result.recoverMs),
      result.windows.length > 0 && result.recoverMs !== undefined && result.recoverMs <= t.maxRecoverMs,
    );
  return checks;
}

/** The worst of the windows' values; undefined when any window has none. */
function worst(values: Array<number | undefined>): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return Math.max(...(values as number[]));
}

export async function runScenario(scenario: Scenario, mode: Mode): Promise<ScenarioResult> {
  const config = parseConfig(GAME_DAY_CONFIG, { source: 'chaos/scenarios.ts', env: {} });
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', env: {}, logger: false });
  // The gateway's own chaos controller when startGateway exposes one (`gateway.chaos`); until then,
  // wrap this gateway's providers with a controller of our own.
  const wired = (gateway as Gateway & { chaos?: Chaos }).chaos?.controller;
  const controller = wired ?? new ChaosController();
  if (!wired) wrapRouter(gateway.router, controller);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const t0 = Date.now();
  const transitions: Transition[] = [];
  for (const [target, breaker] of gateway.router.breakers) {
    breaker.onTransition((t) => transitions.push({ target, from: t.from, to: t.to, atMs: t.at - t0 }));
  }
  const applied: Array<{ atMs: number; step: Step }> = [];
  const chaosApplied: Record<string, number> = {};
  const timers = scenario.timeline.map((step) =>
    setTimeout(() => {
      if ('inject' in step) controller.inject(step.inject, step.fault);
      else {
        const fault = controller.list().find((f) => f.target === step.clear);
        if (fault) chaosApplied[step.clear] = (chaosApplied[step.clear] ?? 0) + fault.applied;
        controller.clear(step.clear);
      }
      applied.push({ atMs: Date.now() - t0, step });
    }, step.atMs),
  );
  const { port } = new URL(gateway.url);
  let samples: Sample[];
  let loris: LorisResult | undefined;
  try {
    const lorisRun = scenario.slowLoris
      ? slowLoris({
          host: '127.0.0.1',
          port: Number(port),
          ...scenario.slowLoris,
          durationMs: scenario.load.durationMs,
        })
      : undefined;
    samples = await openLoop({
      origin: gateway.url,
      route: ROUTE,
      load: scenario.load,
      timeoutMs: CLIENT_TIMEOUT_MS,
      t0,
    });
    loris = await lorisRun;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    lag.disable();
    if (wired) controller.clear();
    else controller.close();
    await gateway.close();
  }
  const durationMs = Date.now() - t0;

  const ok = samples.filter((s) => s.outcome === 'ok');
  const errors = samples.filter((s) => s.outcome === 'error');
  const unanswered = samples.filter((s) => s.outcome === 'unanswered');
  const answered = [...ok, ...errors].map((s) => s.latencyMs).sort((a, b) => a - b);
  const errorLatencies = errors.map((s) => s.latencyMs).sort((a, b) => a - b);
  const windows = faultWindows(applied);
  measureWindows(windows, transitions, samples);
  const partial: Omit<ScenarioResult, 'checks' | 'passed'> = {
    name: scenario.name,
    description: scenario.description,
    mode,
    durationMs,
    offered: samples.length,
    ok: ok.length,
    clearErrors: errors.length,
    unanswered: unanswered.length,
    unansweredReasons: count(unanswered.map((s) => s.reason ?? 'unknown')),
    successRate: samples.length === 0 ? 0 : ok.length / samples.length,
    latencyMs: {
      p50: percentile(answered, 0.5),
      p95: percentile(answered, 0.95),
      p99: percentile(answered, 0.99),
      max: answered.at(-1) ?? 0,
    },
    ...(errorLatencies.length > 0 ? { errorLatencyP99Ms: percentile(errorLatencies, 0.99) } : {}),
    fallbackRate:
      ok.length === 0
        ? 0
        : ok.filter((s) => s.decision === 'fallback' || s.decision === 'hedge').length / ok.length,
    statuses: count(samples.filter((s) => s.status !== undefined).map((s) => String(s.status))),
    errorCodes: count(errors.map((s) => s.code ?? 'unknown')),
    transitions,
    windows,
    ...(worst(windows.map((w) => w.detectMs)) !== undefined
      ? { detectMs: worst(windows.map((w) => w.detectMs))! }
      : {}),
    ...(worst(windows.filter((w) => w.endMs !== undefined).map((w) => w.recoverMs)) !== undefined
      ? { recoverMs: worst(windows.filter((w) => w.endMs !== undefined).map((w) => w.recoverMs))! }
      : {}),
    chaosApplied,
    timeline: applied.map(({ atMs, step }) => ({
      atMs,
      action: 'inject' in step ? `inject ${step.inject}` : `clear ${step.clear}`,
    })),
    ...(loris ? { slowLoris: loris } : {}),
    loopLagP99Ms: Math.round(lag.percentile(99) / 1e6),
    thresholds: scenario.thresholds,
  };
  const checks = evaluate(partial, scenario.thresholds);
  return { ...partial, checks, passed: checks.every((c) => c.pass) };
}

export interface GameDayRun {
  mode: Mode;
  startedAt: string;
  durationMs: number;
  node: string;
  passed: boolean;
  scenarios: ScenarioResult[];
}

/** Run the scenarios (all, or those named in `only`) one after another. */
export async function runGameDays(options: {
  mode: Mode;
  only?: string[];
  onStart?: (scenario: Scenario) => void;
  onResult?: (result: ScenarioResult) => void;
}): Promise<GameDayRun> {
  const all = scenarios(options.mode);
  const chosen =
    options.only && options.only.length > 0 ? all.filter((s) => options.only!.includes(s.name)) : all;
  const unknown = (options.only ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; scenarios: ${all.map((s) => s.name).join(', ')}`,
    );
  }
  const started = Date.now();
  const results: ScenarioResult[] = [];
  for (const scenario of chosen) {
    options.onStart?.(scenario);
    const result = await runScenario(scenario, options.mode);
    options.onResult?.(result);
    results.push(result);
  }
  return {
    mode: options.mode,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    node: process.version,
    passed: results.every((r) => r.passed),
    scenarios: results,
  };
}
