/**
 * Declared prompt variables: their types and the one check every value (a caller's or a default)
 * goes through. Values are JSON: no coercion, a "3" is not a number.
 */

export const VARIABLE_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'enum'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface VariableSpec {
  type: VariableType;
  description?: string | undefined;
  /** The allowed values of an `enum`. */
  values?: string[] | undefined;
  /** Whether the caller must send it; false when there is a default. */
  required: boolean;
  default?: unknown;
  /** Longest string (characters) or array (items) accepted. */
  maxLength?: number | undefined;
}

/** How a value reads in an error message: its kind, or itself when short and scalar. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typeProblem(spec: VariableSpec, value: unknown): string | undefined {
  const got = `got ${describeValue(value)}`;
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, ${got}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `expected a number, ${got}`;
    case 'integer':
      return Number.isInteger(value) ? undefined : `expected an integer, ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected a boolean, ${got}`;
    case 'array':
      return Array.isArray(value) ? undefined : `expected an array, ${got}`;
    case 'object':
      return isPlainObject(value) ? undefined : `expected an object, ${got}`;
    case 'enum': {
      const values = spec.values ?? [];
      return typeof value === 'string' && values.includes(value)
        ? undefined
        : `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}; ${got}`;
    }
  }
}

/** The problem with `value` for a variable declared as `spec`, or undefined when it fits. */
export function variableProblem(spec: VariableSpec, value: unknown): string | undefined {
  const problem = typeProblem(spec, value);
  if (problem !== undefined || spec.maxLength === undefined) return problem;
  if (typeof value === 'string' && value.length > spec.maxLength) {
    return `longer than maxLength ${spec.maxLength} (${value.length} characters)`;
  }
  if (Array.isArray(value) && value.length > spec.maxLength) {
    return `longer than maxLength ${spec.maxLength} (${value.length} items)`;
  }
  return undefined;
}
