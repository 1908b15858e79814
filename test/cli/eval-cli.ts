/**
 * Runs `keel eval …` in-process the way a user runs it: a fresh commander program, the output
 * captured, and the exit code read from `process.exitCode` (restored afterwards) or from commander's
 * own exit (help, parse errors).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Command } from 'commander';
import { registerEvalCommands } from '../../src/cli/eval.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export async function keelEval(...args: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const program = new Command('keel');
  registerEvalCommands(program, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    exit: (code) => {
      throw new Exit(code);
    },
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['eval', ...args], { from: 'user' });
    return { code: Number(process.exitCode ?? 0), out, err };
  } catch (error) {
    if (error instanceof Exit) return { code: error.code, out, err };
    throw error;
  } finally {
    process.exitCode = saved;
  }
}

/** The text of a request's messages of one role, to script a mock upstream by what Keel sent. */
export function roleText(body: Record<string, unknown>, role: string): string {
  const messages = (body.messages ?? []) as Array<{ role: string; content: unknown }>;
  return messages
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');
}

/** A temporary directory holding `NAME.jsonl` of `cases`, added to a dataset registry under `DIR/ds`. */
export async function addDataset(name: string, cases: unknown[]): Promise<{ dir: string; root: string }> {
  const dir = mkdtempSync(join(tmpdir(), `keel-eval-${name}-`));
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`);
  const root = join(dir, 'ds');
  const added = await keelEval('dataset', 'add', name, file, '--root', root);
  if (added.code !== 0) throw new Error(`dataset add failed: ${added.err}`);
  return { dir, root };
}

/** `n` cases asking the model to "say wN", expecting "wN" (the mock answers by stripping "say "). */
export function wordCases(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    input: { messages: [{ role: 'user', content: `say w${i}` }] },
    expected: `w${i}`,
  }));
}

/**
 * A gateway whose `main` route is one model on a mock upstream that answers "say wN" with "wN" after
 * `delayMs` (priced when `pricing` is given, for cost scorers).
 */
export async function startWordsGateway(options: { delayMs: number; pricing?: string }) {
  const upstream = await startMockUpstream((_n, body) => ({
    kind: 'ok',
    delayMs: options.delayMs,
    text: roleText(body, 'user').replace('say ', ''),
  }));
  const pricing = options.pricing ? `, pricing: ${options.pricing}` : '';
  const gw = await gatewayFromYaml(`
providers: { up: { type: openai, baseUrl: "${upstream.url}" } }
models: { m: { provider: up, model: m${pricing} } }
routes: { main: { targets: [{ model: m, retry: { max: 0 } }] } }
`);
  return { upstream, gw };
}

export interface WordsSuite {
  upstream: MockUpstream;
  gw: Gateway;
  dir: string;
  /** Where `runArgs` puts the run: `DIR/run`. */
  runDir(): string;
  /** `eval run` over the `words` dataset against route:main, results in `runDir()`, no progress bar. */
  runArgs(scorers: string, concurrency?: number): string[];
}

/**
 * For a `describe` block of `keel eval run` tests: before it, a words gateway (`startWordsGateway`) and
 * a `words` dataset of `cases` cases; after it, both are gone. Read the fields inside the tests.
 */
export function wordsSuite(options: { delayMs: number; pricing?: string }, cases: number): WordsSuite {
  const suite = {
    runDir: () => join(suite.dir, 'run'),
    runArgs: (scorers: string, concurrency?: number) => [
      'run',
      '--dataset',
      'words',
      '--root',
      join(suite.dir, 'ds'),
      '--target',
      'route:main',
      '--scorers',
      scorers,
      ...(concurrency === undefined ? [] : ['--concurrency', String(concurrency)]),
      '--run-dir',
      suite.runDir(),
      '--url',
      suite.gw.url,
      '--no-progress',
    ],
  } as WordsSuite;
  before(async () => {
    ({ upstream: suite.upstream, gw: suite.gw } = await startWordsGateway(options));
    ({ dir: suite.dir } = await addDataset('words', wordCases(cases)));
  });
  after(async () => {
    await suite.gw.close();
    await suite.upstream.close();
    rmSync(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
