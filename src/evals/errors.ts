/**
 * Errors the eval harness raises for problems a user can cause (a bad dataset line, an unknown dataset,
 * a run directory that belongs to another run). Local until these codes join core's ERROR_CODES table.
 */

export type KeelEvalErrorCode =
  | 'KEEL_EVAL_DATASET_INVALID'
  | 'KEEL_EVAL_DATASET_NOT_FOUND'
  | 'KEEL_EVAL_RUN_MISMATCH'
  | 'KEEL_EVAL_CONFIG_INVALID';

export class KeelEvalError extends Error {
  readonly code: KeelEvalErrorCode;

  constructor(code: KeelEvalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeelEvalError';
    this.code = code;
  }
}

/** Formats zod issues as `path: problem` fragments, the path prefixed by `where` (a line, a file). */
export function describeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  where: string,
): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      const field = path.startsWith('.') ? path.slice(1) : path;
      return `${where}${field ? ` ${field}` : ''}: ${issue.message}`;
    })
    .join('; ');
}
