/**
 * `keel eval dataset|run|report|gate`: the eval harness (src/evals) run through a real gateway over HTTP.
 *
 * Exit codes: 0 the gate passed (or the command did its job), 1 the gate failed, 2 a usage or config
 * problem (bad option, unknown dataset, target or scorer, unreachable gateway): no verdict. Actions set
 * `process.exitCode` and never call `process.exit`; commander's own parse errors go through `io.exit`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, type CommanderError, InvalidArgumentError } from 'commander';
import { DatasetRegistry, DEFAULT_DATASET_ROOT, KeelEvalError, loadRun } from '../evals/index.ts';
import {
  type AddOptions,
  addToDataset,
  describeAdd,
  renderDataset,
  renderDatasetList,
} from './eval-dataset.ts';
import { EvalUsageError } from './eval-errors.ts';
import { type RunOptions, runCommand } from './eval-run.ts';
import { parseTarget } from './eval-target.ts';
import {
  collectMin,
  type Printer,
  parseMargin,
  present,
  type Thresholds,
  verdictOf,
} from './eval-verdict.ts';

export interface EvalIo extends Printer {
  /** Ends the process for commander's own errors and help (default `process.exit`). */
  exit(code: number): void;
}

const processIo: EvalIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
};

const DEFAULT_URL = 'http://127.0.0.1:8080';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** Errors a user can cause end the command with their message and exit code 2; bugs propagate. */
function action<A extends unknown[]>(io: EvalIo, fn: (...args: A) => Promise<number | undefined>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (code !== undefined && code !== 0) process.exitCode = code;
    } catch (err) {
      if (!isUserError(err)) throw err;
      io.err(`keel eval: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  };
}

function isUserError(err: unknown): boolean {
  if (err instanceof KeelEvalError || err instanceof EvalUsageError) return true;
  // Gateway and admin API failures (`404: no trace with id …`, `cannot reach Keel at …`) name their problem.
  return (
    err instanceof Error && (/^\d{3}: /.test(err.message) || err.message.startsWith('cannot reach Keel'))
  );
}

interface ReportCliOptions {
  run: string;
  baselineRun?: string;
  min?: Thresholds;
  margin?: number;
  root: string;
  md?: string;
  html?: string;
  json?: string;
}

/** A stored run, or a usage error naming the directory. */
function storedRun(dir: string, flag: string) {
  if (!existsSync(join(dir, 'run.json')))
    throw new EvalUsageError(`${flag} ${dir}: not a run directory (no run.json)`);
  return loadRun(dir);
}

/** `DIR/baseline` when `keel eval run --baseline TARGET` left one there. */
function baselineDir(run: string, given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const nested = join(run, 'baseline');
  return existsSync(join(nested, 'run.json')) ? nested : undefined;
}

/**
 * Adds `keel eval …` to the program.
 * @example registerEvalCommands(program) // keel eval run --dataset support --target feature:reply@3f2a9c01d4e7 --baseline feature:reply
 */
export function registerEvalCommands(program: Command, io: EvalIo = processIo): void {
  const evalCmd = program
    .command('eval')
    .description('evaluate features and routes on golden datasets through the gateway; gate releases');
  // Commander exits 1 on a parse error; `keel eval` keeps 1 for "the gate failed", so those exit 2.
  // Set before the subcommands are created: they inherit it.
  evalCmd.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.executeSubCommandAsync') return;
    io.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  });
  evalCmd.configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) });

  const dataset = evalCmd.command('dataset').description('golden datasets: versioned JSONL cases on disk');
  const withRoot = (cmd: Command) =>
    cmd.option('--root <dir>', 'the dataset registry directory', DEFAULT_DATASET_ROOT);
  /** What a verdict on a stored run is taken from: `report` and `gate` read the same options. */
  const withVerdict = (cmd: Command) =>
    cmd
      .requiredOption('--run <dir>', 'the candidate run')
      .option('--baseline-run <dir>', 'the baseline run (default: RUN/baseline when present)')
      .option('--min <metric=x>', 'absolute threshold, repeatable', collectMin)
      .option('--margin <x>', 'regression margin (default 0.02)', parseMargin);

  withRoot(
    dataset
      .command('add <name> [file]')
      .description('store FILE (JSONL) as a new version, or add cases from a trace or the review queue')
      .option('--from-trace <ids>', 'trace ids (comma-separated) of the running gateway to add as cases')
      .option('--from-review', "add the review queue's resolved items (its golden export)")
      .option('--ids <a,b>', 'with --from-review: only these review items')
      .option('--url <url>', 'the running gateway (for --from-trace / --from-review)', DEFAULT_URL),
  ).action(
    action(io, async (name: string, file: string | undefined, opts: AddOptions) => {
      io.out(`${describeAdd(await addToDataset(name, file, opts))}\n`);
      return 0;
    }),
  );

  withRoot(dataset.command('list').description('datasets with their versions and labels'))
    .option('--json', 'print JSON')
    .action(
      action(io, async (opts: { root: string; json?: boolean }) => {
        const list = new DatasetRegistry({ root: opts.root }).list();
        io.out(`${opts.json ? JSON.stringify(list, null, 2) : renderDatasetList(list, opts.root)}\n`);
        return 0;
      }),
    );

  withRoot(
    dataset.command('show <ref>').description('the cases of NAME (latest), NAME@VERSION or NAME@LABEL'),
  )
    .option('--json', 'print JSON')
    .action(
      action(io, async (ref: string, opts: { root: string; json?: boolean }) => {
        const found = new DatasetRegistry({ root: opts.root }).show(ref);
        io.out(`${opts.json ? JSON.stringify(found, null, 2) : renderDataset(found)}\n`);
        return 0;
      }),
    );

  withRoot(
    evalCmd
      .command('run')
      .description(
        'run a dataset through the gateway, gate against a baseline, write reports (exit 1: gate failed)',
      )
      .requiredOption('--dataset <ref>', 'NAME, NAME@VERSION or NAME@LABEL')
      .requiredOption(
        '--target <target>',
        'feature:NAME, feature:NAME@VERSION (pinned prompt) or route:NAME',
        parseTarget,
      )
      .option('--baseline <target>', 'a target to run too and compare against', parseTarget)
      .option('--baseline-run <dir>', 'a finished run to compare against')
      .option('--repeat <n>', 'runs per case', positiveInt, 1)
      .option('--concurrency <n>', 'cases in flight at once', positiveInt, 4)
      .option(
        '--scorers <list>',
        'e.g. exact,latency=2000,rubric=rubric.txt (default: exact, json-fields or refusal)',
      )
      .option('--judge-route <route>', 'the route judged scorers ask (temperature 0)')
      .option('--embed-route <route>', 'the route that embeds for similarity scorers')
      .option('--min <metric=x>', 'absolute threshold, repeatable: --min exact=0.9', collectMin)
      .option('--margin <x>', 'a regression is a CI wholly below −margin (default 0.02)', parseMargin)
      .option('--run-dir <dir>', 'where the run is stored; the same dir again resumes it')
      .option('--report-md <file>', 'write a markdown report (pull-request comment)')
      .option('--report-html <file>', 'write a self-contained HTML report')
      .option('--report-json <file>', 'write the verdict as JSON')
      .option('--json', 'print the verdict as JSON instead of the table')
      .option(
        '--max-pairs <n>',
        'stop after N pairs in this session (resume later with --run-dir)',
        positiveInt,
      )
      .option('--rerun-errors', 'on resume, run again the pairs that got no answer')
      .option('--no-progress', 'no progress bar even on a terminal')
      .option('--url <url>', 'the running gateway', DEFAULT_URL),
  ).action(
    action(io, async (opts: Omit<RunOptions, 'progress'> & { progress: boolean }) =>
      runCommand({ ...opts, ...(opts.progress === false ? { progress: false } : {}) }, io),
    ),
  );

  withRoot(
    withVerdict(evalCmd.command('report').description('render reports again from stored runs'))
      .option('--md <file>', 'write a markdown report')
      .option(
        '--html <file>',
        "write a self-contained HTML report (with the dataset's inputs when found in --root)",
      )
      .option('--json <file>', 'write the verdict as JSON'),
  ).action(
    action(io, async (opts: ReportCliOptions) => {
      const candidate = storedRun(opts.run, '--run');
      const baselineAt = baselineDir(opts.run, opts.baselineRun);
      const baseline = baselineAt === undefined ? undefined : storedRun(baselineAt, '--baseline-run');
      const verdict = verdictOf({ candidate, baseline, min: opts.min, margin: opts.margin });
      const { name, version } = candidate.config.dataset;
      let cases: ReturnType<DatasetRegistry['show']>['cases'] | undefined;
      try {
        cases = new DatasetRegistry({ root: opts.root }).show(`${name}@${version}`).cases;
      } catch {
        io.err(`note: ${name}@${version} is not in ${opts.root}: the HTML report shows no inputs\n`);
      }
      present(
        io,
        { verdict, candidate, baseline, ...(cases ? { cases } : {}) },
        {
          files: { md: opts.md, html: opts.html, json: opts.json },
        },
      );
      return 0;
    }),
  );

  withVerdict(
    evalCmd
      .command('gate')
      .description('gate a stored run against a baseline run (exit 1 on a regression or a missed threshold)'),
  )
    .option('--json', 'print the verdict as JSON')
    .action(
      action(
        io,
        async (opts: {
          run: string;
          baselineRun?: string;
          min?: Thresholds;
          margin?: number;
          json?: boolean;
        }) => {
          const candidate = storedRun(opts.run, '--run');
          const baselineAt = baselineDir(opts.run, opts.baselineRun);
          if (baselineAt === undefined)
            throw new EvalUsageError(
              `--baseline-run: give the baseline run (${opts.run} holds no baseline/ run)`,
            );
          const baseline = storedRun(baselineAt, '--baseline-run');
          const verdict = verdictOf({ candidate, baseline, min: opts.min, margin: opts.margin });
          return present(io, { verdict, candidate, baseline }, { json: opts.json });
        },
      ),
    );
}
