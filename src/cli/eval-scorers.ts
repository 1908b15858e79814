/**
 * The `--scorers` list of `keel eval run`: comma-separated `name` or `name=arg`, turned into scorers.
 * A comma splits the list only where a known scorer name follows it, so an argument may hold commas
 * (`regex=^\d{1,3}$`, `rubric=polite, correct and short`). Every problem is named; unknown names list
 * the valid ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  answerRelevancy,
  contains,
  contextPrecision,
  contextRecall,
  costCeiling,
  type EmbedFn,
  type EvalCase,
  embeddingSimilarity,
  exact,
  faithfulness,
  type JudgeFn,
  jsonFields,
  jsonSchema,
  latencyCeiling,
  lengthBounds,
  numericTolerance,
  refusal,
  regex,
  rubric,
  type Scorer,
  stepCeiling,
  toolArguments,
  toolOrder,
  toolUsed,
} from '../evals/index.ts';
import { EvalUsageError } from './eval-errors.ts';

/** What the scorers that call a model are given; absent when the route was not named. */
export interface ScorerModels {
  judge?: JudgeFn | undefined;
  embed?: EmbedFn | undefined;
}

export class ScorerSpecError extends EvalUsageError {
  override name = 'ScorerSpecError';
}

interface Factory {
  /** `required`: name=ARG is needed; `optional`: name or name=ARG; `none`: name only. */
  arg: 'required' | 'optional' | 'none';
  usage: string;
  needs?: Array<'judge' | 'embed'>;
  make(arg: string | undefined, name: string, models: { judge: JudgeFn; embed: EmbedFn }): Scorer;
}

const FACTORIES: Record<string, Factory> = {
  exact: { arg: 'none', usage: 'exact', make: (_a, name) => exact({ name }) },
  contains: {
    arg: 'optional',
    usage: 'contains[=a|b] (default: the expected text)',
    make: (a, name) => contains(a === undefined ? { name } : { name, substrings: pipeList(a) }),
  },
  regex: {
    arg: 'required',
    usage: 'regex=PATTERN or regex=/PATTERN/FLAGS',
    make: (a, name) => makeRegex(a!, name),
  },
  'json-schema': {
    arg: 'required',
    usage: 'json-schema=FILE (a JSON Schema file)',
    make: (a, name) => jsonSchema({ name, schema: readJsonObject(a!, 'json-schema') }),
  },
  'json-fields': {
    arg: 'optional',
    usage: 'json-fields[=a.b|c] (default: every field of the expected object)',
    make: (a, name) => jsonFields(a === undefined ? { name } : { name, fields: pipeList(a) }),
  },
  numeric: {
    arg: 'optional',
    usage: 'numeric[=TOL] (absolute, or relative with %: numeric=2%)',
    make: (a, name) => makeNumeric(a, name),
  },
  length: {
    arg: 'required',
    usage: 'length=MIN-MAX (characters; either side may be empty: length=-280)',
    make: (a, name) => makeLength(a!, name),
  },
  latency: {
    arg: 'required',
    usage: 'latency=MS',
    make: (a, name) => latencyCeiling({ name, maxMs: number(a!, 'latency', 'milliseconds') }),
  },
  cost: {
    arg: 'required',
    usage: 'cost=USD',
    make: (a, name) => costCeiling({ name, maxUsd: number(a!, 'cost', 'dollars') }),
  },
  refusal: { arg: 'none', usage: 'refusal', make: (_a, name) => refusal({ name }) },
  similarity: {
    arg: 'optional',
    usage: 'similarity[=THRESHOLD] (needs --embed-route)',
    needs: ['embed'],
    make: (a, name, m) =>
      embeddingSimilarity({
        name,
        embed: m.embed,
        ...(a === undefined ? {} : { threshold: number(a, 'similarity', 'a threshold 0..1') }),
      }),
  },
  rubric: {
    arg: 'required',
    usage: 'rubric=TEXT or rubric=FILE (needs --judge-route)',
    needs: ['judge'],
    make: (a, name, m) =>
      rubric({ name, judge: m.judge, rubric: existsSync(a!) ? readText(a!, 'rubric') : a! }),
  },
  faithfulness: {
    arg: 'none',
    usage: 'faithfulness (needs --judge-route)',
    needs: ['judge'],
    make: (_a, name, m) => faithfulness({ name, judge: m.judge }),
  },
  'answer-relevancy': {
    arg: 'none',
    usage: 'answer-relevancy (needs --judge-route and --embed-route)',
    needs: ['judge', 'embed'],
    make: (_a, name, m) => answerRelevancy({ name, judge: m.judge, embed: m.embed }),
  },
  'context-precision': {
    arg: 'none',
    usage: 'context-precision (needs --judge-route)',
    needs: ['judge'],
    make: (_a, name, m) => contextPrecision({ name, judge: m.judge }),
  },
  'context-recall': {
    arg: 'none',
    usage: 'context-recall (needs --judge-route)',
    needs: ['judge'],
    make: (_a, name, m) => contextRecall({ name, judge: m.judge }),
  },
  'tool-used': {
    arg: 'optional',
    usage: 'tool-used[=TOOL] (default: the expected object\'s "tool")',
    make: (a, name) => toolUsed({ name, tool: a ?? expectedField<string>('tool', 'string') }),
  },
  'tool-args': {
    arg: 'optional',
    usage: 'tool-args[=TOOL] (arguments: the expected object\'s "arguments")',
    make: (a, name) =>
      toolArguments({
        name,
        tool: a ?? expectedField<string>('tool', 'string'),
        arguments: expectedField<Record<string, unknown>>('arguments', 'object'),
      }),
  },
  'tool-order': {
    arg: 'optional',
    usage: 'tool-order[=a>b>c] (default: the expected object\'s "tools")',
    make: (a, name) =>
      toolOrder({
        name,
        sequence: a === undefined ? expectedField<string[]>('tools', 'array') : a.split('>'),
      }),
  },
  steps: {
    arg: 'required',
    usage: 'steps=N (at most N tool calls)',
    make: (a, name) => stepCeiling({ name, maxSteps: number(a!, 'steps', 'a whole number') }),
  },
};

export const SCORER_NAMES = Object.keys(FACTORIES);

export interface ScorerSpec {
  /** The metric's name in results and reports: the scorer name, `-2`, `-3`… when repeated. */
  metric: string;
  scorer: string;
  arg?: string;
}

/** Splits `--scorers` text into specs, checking names and arguments (not the routes they need). */
export function parseScorerList(text: string): ScorerSpec[] {
  const names = SCORER_NAMES.map(escapeRegExp).join('|');
  const parts = text.split(new RegExp(`,(?=\\s*(?:${names})\\s*(?:=|,|$))`));
  const counts = new Map<string, number>();
  const specs: ScorerSpec[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') throw new ScorerSpecError(`--scorers: empty entry in "${text}"`);
    const eq = part.indexOf('=');
    const scorer = (eq < 0 ? part : part.slice(0, eq)).trim();
    const arg = eq < 0 ? undefined : part.slice(eq + 1);
    const factory = FACTORIES[scorer];
    if (!factory) {
      const unknown = scorer.split(',').find((s) => !FACTORIES[s.trim()]) ?? scorer;
      if (unknown.trim() === '') throw new ScorerSpecError(`--scorers: empty entry in "${text}"`);
      throw new ScorerSpecError(
        `--scorers: unknown scorer "${unknown.trim()}"; valid: ${SCORER_NAMES.join(', ')}`,
      );
    }
    if (factory.arg === 'required' && (arg === undefined || arg === ''))
      throw new ScorerSpecError(`--scorers: ${scorer} needs an argument: ${factory.usage}`);
    if (factory.arg === 'none' && arg !== undefined)
      throw new ScorerSpecError(`--scorers: ${scorer} takes no argument (got "${scorer}=${arg}")`);
    const n = (counts.get(scorer) ?? 0) + 1;
    counts.set(scorer, n);
    specs.push({
      metric: n === 1 ? scorer : `${scorer}-${n}`,
      scorer,
      ...(arg !== undefined ? { arg } : {}),
    });
  }
  return specs;
}

/** The scorers used when `--scorers` is not given: by what the cases' `expected` holds. */
export function defaultScorerList(cases: readonly EvalCase[]): string {
  const expected = cases.map((c) => c.expected).filter((e) => e !== undefined);
  if (expected.length === 0) return 'refusal';
  return expected.every((e) => typeof e === 'object') ? 'json-fields' : 'exact';
}

/**
 * Builds the scorers. A scorer that calls a model needs its route: `rubric needs --judge-route ROUTE`.
 * @throws ScorerSpecError naming the scorer and the problem.
 */
export function buildScorers(specs: readonly ScorerSpec[], models: ScorerModels): Scorer[] {
  const missing: string[] = [];
  for (const spec of specs) {
    const routes = (FACTORIES[spec.scorer]!.needs ?? []).filter((need) => !models[need]);
    if (routes.length)
      missing.push(`${spec.scorer} needs ${routes.map((r) => `--${r}-route ROUTE`).join(' and ')}`);
  }
  if (missing.length) throw new ScorerSpecError(`--scorers: ${[...new Set(missing)].join('; ')}`);
  const given = models as { judge: JudgeFn; embed: EmbedFn };
  return specs.map((spec) => {
    try {
      return FACTORIES[spec.scorer]!.make(spec.arg, spec.metric, given);
    } catch (err) {
      if (err instanceof ScorerSpecError) throw err;
      throw new ScorerSpecError(`--scorers: ${spec.scorer}: ${(err as Error).message}`);
    }
  });
}

/** Whether any scorer needs a model, so the CLI knows which routes to check. */
export function modelsNeeded(specs: readonly ScorerSpec[]): Set<'judge' | 'embed'> {
  return new Set(specs.flatMap((spec) => FACTORIES[spec.scorer]!.needs ?? []));
}

function pipeList(arg: string): string[] {
  return arg
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
}

function makeRegex(arg: string, name: string): Scorer {
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(arg);
  try {
    return literal
      ? regex({ name, pattern: literal[1]!, flags: literal[2]! })
      : regex({ name, pattern: arg });
  } catch (err) {
    throw new ScorerSpecError(`--scorers: regex: invalid pattern "${arg}": ${(err as Error).message}`);
  }
}

function makeNumeric(arg: string | undefined, name: string): Scorer {
  if (arg === undefined) return numericTolerance({ name });
  if (arg.endsWith('%'))
    return numericTolerance({ name, relative: number(arg.slice(0, -1), 'numeric', 'a tolerance') / 100 });
  return numericTolerance({ name, absolute: number(arg, 'numeric', 'a tolerance') });
}

function makeLength(arg: string, name: string): Scorer {
  const bounds = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(arg);
  if (!bounds || (bounds[1] === '' && bounds[2] === ''))
    throw new ScorerSpecError(
      `--scorers: length=${arg}: expected MIN-MAX, e.g. length=20-280 or length=-280`,
    );
  return lengthBounds({
    name,
    ...(bounds[1] ? { min: Number(bounds[1]) } : {}),
    ...(bounds[2] ? { max: Number(bounds[2]) } : {}),
  });
}

function number(text: string, scorer: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new ScorerSpecError(`--scorers: ${scorer}=${text}: expected ${what} (a number ≥ 0)`);
  return n;
}

function readText(file: string, scorer: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScorerSpecError(`--scorers: ${scorer}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function readJsonObject(file: string, scorer: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readText(file, scorer));
  } catch (err) {
    if (err instanceof ScorerSpecError) throw err;
    throw new ScorerSpecError(`--scorers: ${scorer}: ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ScorerSpecError(`--scorers: ${scorer}: ${file} must hold a JSON Schema object`);
  return value as Record<string, unknown>;
}

/** Reads a field of the case's expected object, when it has the wanted type. */
function expectedField<T>(
  field: string,
  type: 'string' | 'object' | 'array',
): (c: EvalCase) => T | undefined {
  return (evalCase) => {
    const expected = evalCase.expected;
    if (typeof expected !== 'object') return undefined;
    const value = expected[field];
    if (type === 'array') return Array.isArray(value) ? (value as T) : undefined;
    if (type === 'object')
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as T) : undefined;
    return typeof value === 'string' ? (value as T) : undefined;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
