import { KeelError } from '../../core/errors.ts';

/** 401. The same message for a missing, unknown, revoked or expired key: no hint which keys exist. */
export function unauthorizedError(message: string): KeelError {
  return new KeelError('KEEL_UNAUTHORIZED', message);
}

/** 403: a valid key on a route it may not use. */
export function forbiddenError(message: string): KeelError {
  return new KeelError('KEEL_FORBIDDEN', message, { param: 'model' });
}
