/**
 * Output contracts: does an answer's text satisfy the feature's contract? A text contract wants a
 * non-empty answer; a JSON contract wants JSON that validates against the schema. A strict contract
 * takes the text exactly as JSON; a non-strict one also accepts a single surrounding ```json fence.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Contract } from './config.ts';

export type ValidationFailureKind = 'empty' | 'not_json' | 'schema';

export type Validation =
  | { ok: true; value: unknown }
  | { ok: false; kind: ValidationFailureKind; errors: string[] };

/** More errors than this add nothing to a retry prompt or a trace. */
const MAX_ERRORS = 10;

const FENCE = /^```(?:json)?[ \t]*\n([\s\S]*?)\n?```$/i;

/** `/path: message`, with the offending property named for `required` and `additionalProperties`. */
export function formatAjvError(error: ErrorObject): string {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${path}: must not have property "${String(params.additionalProperty)}"`;
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `${path}: must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}

function parseJson(
  text: string,
  strict: boolean,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const fenced = strict ? null : FENCE.exec(text.trim());
  try {
    return { ok: true, value: JSON.parse(fenced ? fenced[1]! : text) };
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
}

/** Checks `text` against the contract; `validate` is the feature's compiled schema for JSON contracts. */
export function checkContract(text: string, contract: Contract, validate?: ValidateFunction): Validation {
  if (contract === 'text') {
    return text.trim() === ''
      ? { ok: false, kind: 'empty', errors: ['the answer is empty'] }
      : { ok: true, value: text };
  }
  if (!validate) throw new Error('a JSON contract needs its compiled schema');
  const parsed = parseJson(text, contract.strict);
  if (!parsed.ok) return { ok: false, kind: 'not_json', errors: [parsed.error] };
  if (validate(parsed.value)) return { ok: true, value: parsed.value };
  const errors = (validate.errors ?? []).slice(0, MAX_ERRORS).map(formatAjvError);
  return { ok: false, kind: 'schema', errors: errors.length > 0 ? errors : ['/: does not match the schema'] };
}
