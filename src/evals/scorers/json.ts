/**
 * Deterministic JSON scorers: the output validates against a JSON Schema (ajv, with formats), and the
 * output's fields at dotted paths equal the expected object's.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPlugin, { type FormatsPlugin } from 'ajv-formats';
import { KeelEvalError } from '../errors.ts';
import { binary, type Param, resolveParam, type Scorer, scoreError } from './scorer.ts';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = (addFormatsPlugin as unknown as { default: FormatsPlugin }).default;

/** Parses a model's JSON answer; one surrounding ``` or ```json fence is allowed and removed. */
export function parseJsonOutput(output: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(output.trim());
  const text = fenced ? fenced[1]! : output.trim();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `output is not JSON: ${(error as Error).message}` };
  }
}

export interface JsonSchemaOptions {
  name?: string;
  schema: Record<string, unknown>;
}

/** 1 when the output is JSON valid against `schema`. @example jsonSchema({ schema: { type: 'object' } }) */
export function jsonSchema(options: JsonSchemaOptions): Scorer {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(options.schema);
  } catch (error) {
    throw new KeelEvalError(
      'KEEL_EVAL_CONFIG_INVALID',
      `json-schema scorer: schema is invalid: ${(error as Error).message}`,
    );
  }
  return {
    name: options.name ?? 'json-schema',
    kind: 'deterministic',
    async score({ output }) {
      const parsed = parseJsonOutput(output);
      if (!parsed.ok) return binary(false, parsed.error);
      if (validate(parsed.value)) return binary(true);
      return binary(false, ajv.errorsText(validate.errors, { dataVar: 'output' }));
    },
  };
}

export interface JsonFieldsOptions {
  name?: string;
  /** Dotted paths (`a.b.0.c`) to compare. Default: every leaf path of the expected object. */
  fields?: string[];
  /** Default: the case's `expected` object. */
  expected?: Param<Record<string, unknown>>;
}

/**
 * The fraction of fields whose value in the output JSON deep-equals the expected object's; passes when
 * all do. @example jsonFields({ fields: ['order.status', 'order.items.0.sku'] })
 */
export function jsonFields(options: JsonFieldsOptions = {}): Scorer {
  return {
    name: options.name ?? 'json-fields',
    kind: 'deterministic',
    async score({ evalCase, output }) {
      const expected =
        resolveParam(options.expected, evalCase) ??
        (typeof evalCase.expected === 'object' ? evalCase.expected : undefined);
      if (!expected) return scoreError(`case "${evalCase.id}" has no expected object`);
      const fields = options.fields ?? leafPaths(expected);
      if (fields.length === 0) return scoreError(`case "${evalCase.id}": no fields to compare`);
      const parsed = parseJsonOutput(output);
      if (!parsed.ok) return { value: 0, pass: false, detail: parsed.error };
      const wrong = fields.filter((path) => !deepEqual(getPath(parsed.value, path), getPath(expected, path)));
      const result = { value: (fields.length - wrong.length) / fields.length, pass: wrong.length === 0 };
      return wrong.length ? { ...result, detail: `differ: ${wrong.join(', ')}` } : result;
    },
  };
}

/** The value at a dotted path (`a.b.0`), or undefined. */
export function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return prefix ? [prefix] : [];
  const entries = Object.entries(value);
  if (entries.length === 0) return prefix ? [prefix] : [];
  return entries.flatMap(([key, member]) => leafPaths(member, prefix ? `${prefix}.${key}` : key));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) &&
      deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
