/**
 * `keel eval run`: the dataset through the gateway for the candidate target (and a baseline target,
 * or a finished baseline run), each into its own resumable run directory, then the gate and reports.
 * Everything that can be checked is checked before the first case runs. Returns the exit code:
 * 0 the gate passed, 1 it failed, 2 stopped by `--max-pairs`, 130 stopped by Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Dataset,
  DatasetRegistry,
  loadRun,
  type ReportRun,
  type RunSummary,
  runEval,
  type Scorer,
} from '../evals/index.ts';
import { EvalUsageError } from './eval-errors.ts';
import { GatewayClient } from './eval-gateway.ts';
import { buildScorers, defaultScorerList, modelsNeeded, parseScorerList } from './eval-scorers.ts';
import { type Stopper, stopper } from './eval-stop.ts';
import { invoker, modelId, type Target, targetProblems } from './eval-target.ts';
import { type Printer, present, type Thresholds, verdictOf } from './eval-verdict.ts';

export const DEFAULT_RUNS_ROOT = '.keel/evals/runs';

export interface RunOptions {
  dataset: string;
  target: Target;
  baseline?: Target | undefined;
  baselineRun?: string | undefined;
  repeat: number;
  concurrency: number;
  scorers?: string | undefined;
  judgeRoute?: string | undefined;
  embedRoute?: string | undefined;
  min?: Thresholds | undefined;
  margin?: number | undefined;
  runDir?: string | undefined;
  root: string;
  url: string;
  json?: boolean | undefined;
  reportMd?: string | undefined;
  reportHtml?: string | undefined;
  reportJson?: string | undefined;
  /** Stop starting pairs after this many finished in this session (resume later with the same run dir). */
  maxPairs?: number | undefined;
  rerunErrors?: boolean | undefined;
  /** Draw progress bars (default: when stderr is a terminal). */
  progress?: boolean | undefined;
}

/** What a checked `keel eval run` will do. */
interface Plan {
  options: RunOptions;
  io: Printer;
  gateway: GatewayClient;
  dataset: Dataset;
  scorers: Scorer[];
  /** Read route answers' cost from their traces: only when `cost` is scored. */
  routeCost: boolean;
  runDir: string;
  baselineRun?: ReportRun | undefined;
}

/** `.keel/evals/runs/<dataset>@<version>__<target>__<timestamp>`, safe as a directory name. */
export function defaultRunDir(dataset: Dataset, target: Target, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._@-]+/g, '-');
  const name = `${safe(`${dataset.name}@${dataset.version}`)}__${safe(target.text)}__${stamp}`;
  return join(DEFAULT_RUNS_ROOT, name);
}

export async function runCommand(options: RunOptions, io: Printer): Promise<number> {
  const plan = await prepare(options, io);
  const stop = stopper(io, options.maxPairs);
  try {
    const candidate = await runTarget(plan, options.target, plan.runDir, stop);
    if (candidate.aborted) return stopped(io, candidate, plan.runDir, stop.interrupted);
    let baseline = plan.baselineRun;
    if (options.baseline) {
      const summary = await runTarget(plan, options.baseline, join(plan.runDir, 'baseline'), stop);
      if (summary.aborted) return stopped(io, summary, plan.runDir, stop.interrupted);
      baseline = summary;
    }
    const verdict = verdictOf({ candidate, baseline, min: options.min, margin: options.margin });
    const files = { md: options.reportMd, html: options.reportHtml, json: options.reportJson };
    const code = present(
      io,
      { verdict, candidate, baseline, cases: plan.dataset.cases },
      { json: options.json, files },
    );
    io.err(
      `run dir: ${plan.runDir}${options.baseline ? ` (baseline: ${join(plan.runDir, 'baseline')})` : ''}\n`,
    );
    return code;
  } finally {
    stop.dispose();
  }
}

/** Checks the options, the dataset against the targets, the scorers and the gateway's models. */
async function prepare(options: RunOptions, io: Printer): Promise<Plan> {
  if (options.baseline && options.baselineRun)
    throw new EvalUsageError('give one of --baseline TARGET or --baseline-run DIR, not both');
  const dataset = new DatasetRegistry({ root: options.root }).show(options.dataset);
  const targets = [options.target, ...(options.baseline ? [options.baseline] : [])];
  const problems = targets.flatMap((t) => targetProblems(t, dataset.cases));
  if (problems.length) throw new EvalUsageError(problems.join('\n'));

  const specs = parseScorerList(options.scorers ?? defaultScorerList(dataset.cases));
  const metrics = specs.map((s) => s.metric);
  const unknownMin = Object.keys(options.min ?? {}).filter((m) => !metrics.includes(m));
  if (unknownMin.length)
    throw new EvalUsageError(
      `--min: no metric ${unknownMin.map((m) => `"${m}"`).join(', ')} among the scorers (${metrics.join(', ')})`,
    );
  const gateway = new GatewayClient(options.url);
  const scorers = buildScorers(specs, {
    judge: options.judgeRoute !== undefined ? gateway.judge(options.judgeRoute) : undefined,
    embed: options.embedRoute !== undefined ? gateway.embed(options.embedRoute) : undefined,
  });
  const baselineRun =
    options.baselineRun !== undefined ? loadBaselineRun(options.baselineRun, dataset, io) : undefined;

  const needed = modelsNeeded(specs);
  const wanted = targets.map((t) => ({ id: modelId(t), what: t.text }));
  if (needed.has('judge')) wanted.push({ id: options.judgeRoute!, what: '--judge-route' });
  if (needed.has('embed')) wanted.push({ id: options.embedRoute!, what: '--embed-route' });
  await checkModels(gateway, wanted);

  return {
    options,
    io,
    gateway,
    dataset,
    scorers,
    routeCost: specs.some((s) => s.scorer === 'cost'),
    runDir: options.runDir ?? defaultRunDir(dataset, options.target),
    baselineRun,
  };
}

async function runTarget(plan: Plan, target: Target, runDir: string, stop: Stopper): Promise<RunSummary> {
  const { options, dataset, io } = plan;
  io.err(
    `${target.text} on ${dataset.name}@${dataset.version}: ${dataset.cases.length} cases × ${options.repeat} → ${runDir}\n`,
  );
  const summary = await runEval({
    dataset,
    target: target.text,
    invoke: invoker(plan.gateway, target, { routeCost: plan.routeCost }),
    scorers: plan.scorers,
    repeat: options.repeat,
    concurrency: options.concurrency,
    runDir,
    signal: stop.signal,
    onProgress: () => stop.finished(),
    ...(options.progress !== undefined ? { progressBar: options.progress } : {}),
    ...(options.rerunErrors ? { rerunErrors: true } : {}),
  });
  if (summary.skipped > 0)
    io.err(`  resumed: ${summary.skipped} pairs were already done, ${summary.completed} run now\n`);
  const failed = summary.results.filter((r) => r.error !== undefined);
  if (failed.length > 0)
    io.err(
      `  ${failed.length} of ${summary.results.length} pairs failed to get an answer ` +
        `(case ${failed[0]!.caseId}: ${failed[0]!.error}); rerun with --rerun-errors to try them again\n`,
    );
  return summary;
}

function stopped(io: Printer, summary: RunSummary, runDir: string, interrupted: boolean): number {
  const total = summary.config.cases * summary.config.repeat;
  io.err(
    `${interrupted ? 'interrupted' : 'stopped'}: ${summary.results.length} of ${total} pairs done in ${summary.runDir}; ` +
      `no verdict yet. Resume: rerun the same command with --run-dir ${runDir}\n`,
  );
  return interrupted ? 130 : 2;
}

/** A finished run reused as the baseline; a different dataset version is allowed (cases pair by id). */
function loadBaselineRun(dir: string, dataset: Dataset, io: Printer): ReportRun {
  if (!existsSync(join(dir, 'run.json')))
    throw new EvalUsageError(`--baseline-run ${dir}: not a run directory (no run.json)`);
  const run = loadRun(dir);
  const { name, version } = run.config.dataset;
  if (name !== dataset.name || version !== dataset.version)
    io.err(
      `note: the baseline run used ${name}@${version}, this run ${dataset.name}@${dataset.version}; ` +
        'only cases with the same id are compared\n',
    );
  const expected = run.config.cases * run.config.repeat;
  if (run.results.length < expected)
    io.err(`note: the baseline run is unfinished (${run.results.length} of ${expected} pairs)\n`);
  return run;
}

/** Every target and model route must be served by the running gateway. */
async function checkModels(
  gateway: GatewayClient,
  wanted: Array<{ id: string; what: string }>,
): Promise<void> {
  const known = new Set(await gateway.models());
  // model:NAME is not listed (the list is routes and features); the gateway's 404 names a wrong one.
  const missing = wanted.filter((w) => !known.has(w.id) && !w.id.startsWith('model:'));
  if (missing.length === 0) return;
  const routes = [...known].filter((id) => !id.startsWith('feature:'));
  const features = [...known].filter((id) => id.startsWith('feature:'));
  throw new EvalUsageError(
    `${missing.map((m) => `${m.what}: "${m.id}" is not served by ${gateway.url}`).join('; ')} ` +
      `(routes: ${routes.join(', ') || 'none'}; features: ${features.join(', ') || 'none'})`,
  );
}
