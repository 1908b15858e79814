/**
 * Golden datasets as JSONL, one case a line. Parsing validates every line and names the line and field
 * of each problem; a dataset's version is the short sha256 of its canonical content, so the same cases
 * always have the same version whatever their key order or whitespace.
 */
import { readFileSync } from 'node:fs';
import { canonicalJson, shortHash } from './canonical-json.ts';
import { type EvalCase, evalCaseSchema } from './case.ts';
import { describeIssues, KeelEvalError } from './errors.ts';

/** How many problems one error lists before it stops counting. */
const MAX_PROBLEMS = 20;

/**
 * Parses JSONL text into validated cases.
 * @param source names the text in error messages (a path, usually).
 * @throws KeelEvalError KEEL_EVAL_DATASET_INVALID listing `source:LINE field: problem` for each bad line.
 * @example parseDataset('{"id":"a","input":{"variables":{"q":"2+2"}},"expected":"4"}\n', 'math.jsonl')
 */
export function parseDataset(text: string, source = 'dataset'): EvalCase[] {
  const cases: EvalCase[] = [];
  const problems: string[] = [];
  const firstLineOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    const where = `${source}:${lineNo}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problems.push(`${where}: not valid JSON (${(error as Error).message})`);
      return;
    }
    const parsed = evalCaseSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(describeIssues([issue], where));
      return;
    }
    const seenAt = firstLineOf.get(parsed.data.id);
    if (seenAt !== undefined) {
      problems.push(`${where} id: "${parsed.data.id}" is already used on line ${seenAt}`);
      return;
    }
    firstLineOf.set(parsed.data.id, lineNo);
    cases.push(parsed.data);
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS).join('\n  ');
    const more = problems.length > MAX_PROBLEMS ? `\n  … and ${problems.length - MAX_PROBLEMS} more` : '';
    throw new KeelEvalError('KEEL_EVAL_DATASET_INVALID', `invalid dataset:\n  ${shown}${more}`);
  }
  if (cases.length === 0) throw new KeelEvalError('KEEL_EVAL_DATASET_INVALID', `${source}: has no cases`);
  return cases;
}

/** Validates cases given as objects (not text), with the same checks and messages as `parseDataset`. */
export function validateCases(cases: readonly unknown[], source = 'cases'): EvalCase[] {
  return parseDataset(cases.map((c) => JSON.stringify(c) ?? 'null').join('\n'), source);
}

export function readDatasetFile(path: string): EvalCase[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeelEvalError('KEEL_EVAL_DATASET_NOT_FOUND', `${path}: cannot read the dataset file`, {
      cause: error,
    });
  }
  return parseDataset(text, path);
}

/** The canonical JSONL of cases: one canonical-JSON case a line, in order, newline-terminated. */
export function serializeDataset(cases: readonly EvalCase[]): string {
  return cases.map((c) => `${canonicalJson(c)}\n`).join('');
}

/** A dataset's version: the first 12 hex digits of the sha256 of its canonical JSONL. */
export function datasetVersion(cases: readonly EvalCase[]): string {
  return shortHash(serializeDataset(cases));
}
