/** The error `keel eval` raises for a problem in what was asked: the CLI prints it and exits 2. */
export class EvalUsageError extends Error {
  override name = 'EvalUsageError';
}
