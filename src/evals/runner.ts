/**
 * Runs a dataset against a target: every (case, repeat) pair is invoked, scored by every scorer and
 * appended to `runDir/results.jsonl` as soon as it finishes, at most `concurrency` pairs at a time.
 * Rerunning with the same `runDir` resumes: pairs already recorded are skipped, never scored twice.
 */
import type { EvalCase } from './case.ts';
import { datasetVersion } from './dataset.ts';
import { KeelEvalError } from './errors.ts';
import { progressBar } from './progress.ts';
import {
  appendResult,
  type InvokeResult,
  pairKey,
  type RunConfig,
  type RunResult,
  readResults,
  readRunConfig,
  writeRunConfig,
} from './run-files.ts';
import { type ScoreContext, type ScoreResult, type Scorer, safeScore } from './scorers/scorer.ts';

export type { InvokeResult };

export type InvokeFn = (
  evalCase: EvalCase,
  repeatIndex: number,
  options: { signal: AbortSignal },
) => Promise<InvokeResult>;

export interface RunProgress {
  /** Pairs finished, including those skipped because an earlier run finished them. */
  done: number;
  total: number;
  skipped: number;
  errors: number;
  last: RunResult;
}

export interface RunEvalOptions {
  dataset: { name: string; version?: string; cases: readonly EvalCase[] };
  /** What is evaluated, in words: recorded in run.json and shown in reports. */
  target: string;
  invoke: InvokeFn;
  scorers: readonly Scorer[];
  /** Runs per case (default 1). */
  repeat?: number;
  /** Pairs in flight at once (default 4). Scorers of one pair run one after another. */
  concurrency?: number;
  runDir: string;
  onProgress?: (progress: RunProgress) => void;
  /** Stops starting new pairs; pairs already invoked finish and are recorded. */
  signal?: AbortSignal;
  /** Draw a progress bar on stderr (default: when stderr is a terminal). */
  progressBar?: boolean;
  /** On resume, run again the pairs whose invocation failed (default false). */
  rerunErrors?: boolean;
}

export interface RunSummary {
  runDir: string;
  config: RunConfig;
  /** Every recorded result of the run, earlier sessions' included. */
  results: RunResult[];
  /** Pairs finished by this call. */
  completed: number;
  /** Pairs skipped because they were already recorded. */
  skipped: number;
  /** True when the signal stopped the run before every pair was finished. */
  aborted: boolean;
}

/**
 * @example
 * const summary = await runEval({ dataset, target: 'route support@v3', invoke, scorers: [exact()],
 *   repeat: 3, concurrency: 4, runDir: '.keel/evals/runs/2024-06-01-support' });
 */
export async function runEval(options: RunEvalOptions): Promise<RunSummary> {
  const repeat = options.repeat ?? 1;
  const concurrency = options.concurrency ?? 4;
  checkOptions(options, repeat, concurrency);
  const config = resolveConfig(options, repeat);

  const earlier = readResults(options.runDir, { repair: true });
  const finished = new Set(
    earlier
      .filter((r) => !(options.rerunErrors && r.error !== undefined))
      .map((r) => pairKey(r.caseId, r.repeat)),
  );
  const results = new Map(earlier.map((r) => [pairKey(r.caseId, r.repeat), r]));
  const pending: Array<{ evalCase: EvalCase; repeat: number }> = [];
  for (let r = 0; r < repeat; r++)
    for (const evalCase of options.dataset.cases)
      if (!finished.has(pairKey(evalCase.id, r))) pending.push({ evalCase, repeat: r });

  const total = options.dataset.cases.length * repeat;
  const skipped = total - pending.length;
  let done = skipped;
  let errors = earlier.filter(
    (r) => r.error !== undefined && finished.has(pairKey(r.caseId, r.repeat)),
  ).length;
  let completed = 0;
  const bar = progressBar({ enabled: options.progressBar, total, done, label: config.dataset.name });

  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  let next = 0;
  const worker = async () => {
    while (!stop.signal.aborted && next < pending.length) {
      const pair = pending[next++]!;
      const result = await runPair(options, pair.evalCase, pair.repeat, stop.signal);
      if (!result) continue;
      appendResult(options.runDir, result);
      results.set(pairKey(result.caseId, result.repeat), result);
      done++;
      completed++;
      if (result.error !== undefined) errors++;
      bar.update(done, { errors });
      options.onProgress?.({ done, total, skipped, errors, last: result });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
  } catch (error) {
    stop.abort(error);
    throw error;
  } finally {
    bar.stop();
    options.signal?.removeEventListener('abort', onAbort);
  }
  return {
    runDir: options.runDir,
    config,
    results: [...results.values()],
    completed,
    skipped,
    aborted: done < total,
  };
}

/** Invokes and scores one pair; undefined when the invocation was cut short by the abort signal. */
async function runPair(
  options: RunEvalOptions,
  evalCase: EvalCase,
  repeat: number,
  signal: AbortSignal,
): Promise<RunResult | undefined> {
  let invoked: InvokeResult;
  try {
    invoked = await options.invoke(evalCase, repeat, { signal });
  } catch (error) {
    if (signal.aborted) return undefined;
    invoked = { output: '', latencyMs: 0, error: error instanceof Error ? error.message : String(error) };
  }
  const base = {
    caseId: evalCase.id,
    repeat,
    output: invoked.output ?? '',
    latencyMs: invoked.latencyMs,
    ...(invoked.costUsd === undefined ? {} : { costUsd: invoked.costUsd }),
    ...(invoked.toolCalls === undefined ? {} : { toolCalls: invoked.toolCalls }),
    ...(invoked.contexts === undefined ? {} : { contexts: invoked.contexts }),
  };
  const scores: Record<string, ScoreResult> = {};
  if (invoked.error !== undefined) {
    for (const scorer of options.scorers) scores[scorer.name] = { error: `invoke failed: ${invoked.error}` };
    return { ...base, error: invoked.error, scores, finishedAt: new Date().toISOString() };
  }
  const ctx: ScoreContext = { evalCase, ...base, signal };
  // Sequential on purpose: judged scorers call a model, and `concurrency` is the bound on calls in flight.
  for (const scorer of options.scorers) scores[scorer.name] = await safeScore(scorer, ctx);
  return { ...base, scores, finishedAt: new Date().toISOString() };
}

function checkOptions(options: RunEvalOptions, repeat: number, concurrency: number): void {
  const problems: string[] = [];
  if (!Number.isInteger(repeat) || repeat < 1)
    problems.push(`repeat: must be an integer ≥ 1 (got ${repeat})`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    problems.push(`concurrency: must be an integer ≥ 1 (got ${concurrency})`);
  if (options.scorers.length === 0) problems.push('scorers: give at least one');
  const names = options.scorers.map((s) => s.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length)
    problems.push(`scorers: names must be unique (repeated: ${[...new Set(twice)].join(', ')})`);
  const ids = options.dataset.cases.map((c) => c.id);
  const dupIds = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupIds.length)
    problems.push(`dataset: case ids must be unique (repeated: ${[...new Set(dupIds)].join(', ')})`);
  if (problems.length) throw new KeelEvalError('KEEL_EVAL_CONFIG_INVALID', `runEval: ${problems.join('; ')}`);
}

/** The run's config; when runDir already holds a run, it must be the same run (else resuming would mix). */
function resolveConfig(options: RunEvalOptions, repeat: number): RunConfig {
  const version = datasetVersion(options.dataset.cases);
  if (options.dataset.version !== undefined && options.dataset.version !== version)
    throw new KeelEvalError(
      'KEEL_EVAL_CONFIG_INVALID',
      `runEval: dataset.version ${options.dataset.version} does not match its cases (their version is ${version})`,
    );
  const config: RunConfig = {
    dataset: { name: options.dataset.name, version },
    target: options.target,
    scorers: options.scorers.map((s) => ({ name: s.name, kind: s.kind })),
    repeat,
    cases: options.dataset.cases.length,
    createdAt: new Date().toISOString(),
  };
  const existing = readRunConfig(options.runDir);
  if (!existing) {
    writeRunConfig(options.runDir, config);
    return config;
  }
  const differences: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(existing.dataset, config.dataset))
    differences.push(
      `dataset ${existing.dataset.name}@${existing.dataset.version} ≠ ${config.dataset.name}@${config.dataset.version}`,
    );
  if (existing.target !== config.target) differences.push(`target "${existing.target}" ≠ "${config.target}"`);
  if (!same(existing.scorers, config.scorers))
    differences.push(
      `scorers [${existing.scorers.map((s) => s.name).join(', ')}] ≠ [${config.scorers.map((s) => s.name).join(', ')}]`,
    );
  if (existing.repeat !== config.repeat) differences.push(`repeat ${existing.repeat} ≠ ${config.repeat}`);
  if (differences.length)
    throw new KeelEvalError(
      'KEEL_EVAL_RUN_MISMATCH',
      `${options.runDir} holds a different run (${differences.join('; ')}); use a new runDir`,
    );
  return existing;
}
