/**
 * A run directory on disk: `run.json` (what was run: dataset, target, scorers, repeat) and
 * `results.jsonl` (one line per finished (case, repeat) pair, appended as each finishes). Reading
 * tolerates a last line cut short by a crash; a later line for the same pair replaces an earlier one.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelEvalError } from './errors.ts';
import type { ScoreResult, ScorerKind, ToolCallRecord } from './scorers/scorer.ts';

export interface RunConfig {
  dataset: { name: string; version: string };
  /** What was evaluated, in words (route, model, prompt version…). */
  target: string;
  scorers: Array<{ name: string; kind: ScorerKind }>;
  repeat: number;
  cases: number;
  createdAt: string;
}

/** What one invocation of the target returns. `error` marks a failed call (nothing is scored then). */
export interface InvokeResult {
  output: string;
  latencyMs: number;
  costUsd?: number;
  toolCalls?: ToolCallRecord[];
  contexts?: string[];
  error?: string;
}

/** One scored (case, repeat) pair: a line of results.jsonl. With `error`, every score is an error too. */
export interface RunResult extends InvokeResult {
  caseId: string;
  repeat: number;
  scores: Record<string, ScoreResult>;
  finishedAt: string;
}

export const RUN_FILE = 'run.json';
export const RESULTS_FILE = 'results.jsonl';

export function pairKey(caseId: string, repeat: number): string {
  return `${caseId}\u0000${repeat}`;
}

export function readRunConfig(runDir: string): RunConfig | undefined {
  const file = join(runDir, RUN_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
}

export function writeRunConfig(runDir: string, config: RunConfig): void {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, RUN_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * The results recorded in a run directory, one per pair (the last written wins), in file order.
 * @param repair cut a crash-truncated last line off the file, so appends start on a fresh line.
 */
export function readResults(runDir: string, options: { repair?: boolean } = {}): RunResult[] {
  const file = join(runDir, RESULTS_FILE);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const byPair = new Map<string, RunResult>();
  const lines = text.split('\n');
  let torn = false;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let result: RunResult;
    try {
      result = JSON.parse(line) as RunResult;
    } catch {
      // Only the last line can be cut short by a crash mid-write; anything else is damage to report.
      if (index === lines.length - 1) {
        torn = true;
        return;
      }
      throw new KeelEvalError('KEEL_EVAL_RUN_MISMATCH', `${file}:${index + 1}: not a JSON result line`);
    }
    const key = pairKey(result.caseId, result.repeat);
    byPair.delete(key);
    byPair.set(key, result);
  });
  if (options.repair && torn)
    truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
  else if (options.repair && text.length > 0 && !text.endsWith('\n')) appendFileSync(file, '\n');
  return [...byPair.values()];
}

export function appendResult(runDir: string, result: RunResult): void {
  appendFileSync(join(runDir, RESULTS_FILE), `${JSON.stringify(result)}\n`);
}

/** A run as the gate and reports read it. */
export function loadRun(runDir: string): { config: RunConfig; results: RunResult[] } {
  const config = readRunConfig(runDir);
  if (!config)
    throw new KeelEvalError('KEEL_EVAL_RUN_MISMATCH', `${runDir}: no ${RUN_FILE} (not a run directory)`);
  return { config, results: readResults(runDir) };
}
