/**
 * The error a caller raises when an input guard blocks a request. Local until the lead adds
 * KEEL_GUARD_BLOCKED to src/core/errors.ts; carries the guard's name and a reason free of user text.
 */
export class GuardBlockedError extends Error {
  override readonly name = 'GuardBlockedError';
  readonly code = 'KEEL_GUARD_BLOCKED';

  constructor(
    readonly guard: string,
    readonly reason: string,
  ) {
    super(`request blocked by guard "${guard}": ${reason}`);
  }
}
