import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { KeelError } from '../core/errors.ts';
import { DEFAULT_CONFIG_YAML } from './default-config.ts';
import { formatPath, interpolateEnv, type PathProblem } from './interpolate.ts';
import { configSchema, type KeelConfig } from './schema.ts';
import { didYouMean } from './suggest.ts';
import { crossCheck } from './validate.ts';

export class ConfigError extends KeelError {
  readonly problems: PathProblem[];
  constructor(source: string, problems: PathProblem[]) {
    const lines = problems.map((p) => `  ${p.path}: ${p.problem}`).join('\n');
    super('KEEL_CONFIG_INVALID', `invalid config ${source} (${problems.length} problem(s)):\n${lines}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Keys a (possibly wrapped) zod object accepts at `path`, for "did you mean" on unknown keys. */
function knownKeys(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  let node: unknown = schema;
  const unwrap = () => {
    for (;;) {
      const def = (node as { _zod?: { def?: { type?: string; innerType?: unknown } } })._zod?.def;
      if (def && (def.type === 'default' || def.type === 'optional') && def.innerType) node = def.innerType;
      else return def;
    }
  };
  for (const part of path) {
    const def = unwrap() as {
      type?: string;
      shape?: Record<string, unknown>;
      valueType?: unknown;
      element?: unknown;
    };
    if (def?.type === 'object' && typeof part === 'string') node = def.shape?.[part];
    else if (def?.type === 'record') node = def.valueType;
    else if (def?.type === 'array') node = def.element;
    else return [];
  }
  const def = unwrap() as { type?: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): PathProblem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        problem: `unknown key "${key}"${didYouMean(key, knownKeys(configSchema, issue.path))}`,
      }));
    case 'invalid_type': {
      const value = issue.path.reduce<unknown>(
        (node, key) =>
          node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
        raw,
      );
      if (value === undefined) return [{ path, problem: `required (expected ${issue.expected})` }];
      return [{ path, problem: `expected ${issue.expected}, got ${JSON.stringify(value)}` }];
    }
    case 'invalid_union':
      return [{ path, problem: `${issue.message}; "type" must be one of openai, anthropic, simulated` }];
    default:
      return [{ path, problem: issue.message }];
  }
}

/**
 * Parse, interpolate and validate a keel.yaml text. Every problem is collected and thrown at once as a
 * ConfigError listing `path: problem` lines.
 */
export function parseConfig(
  text: string,
  options: { source?: string; env?: Record<string, string | undefined> } = {},
): KeelConfig {
  const source = options.source ?? 'keel.yaml';
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        problem: e.message.split('\n')[0] ?? '',
      })),
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      { path: '(root)', problem: 'expected a mapping with providers, models and routes' },
    ]);
  }
  const problems: PathProblem[] = [];
  const interpolated = interpolateEnv(raw, options.env ?? process.env, problems);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(issue, interpolated));
    throw new ConfigError(source, problems);
  }
  problems.push(...crossCheck(parsed.data, options.env ?? process.env));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return parsed.data;
}

/** Load from a file path, or the embedded default config when no path is given. */
export function loadConfig(path?: string, env: Record<string, string | undefined> = process.env): KeelConfig {
  if (path === undefined) return parseConfig(DEFAULT_CONFIG_YAML, { source: '(embedded default)', env });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(path, [
      { path: '(file)', problem: `${reason}; pass an existing file with --config` },
    ]);
  }
  return parseConfig(text, { source: path, env });
}
