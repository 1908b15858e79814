/** The review queue's errors: KeelErrors with existing codes, so the admin API answers 404 / 400. */
import { KeelError } from '../core/errors.ts';

export class ReviewNotFoundError extends KeelError {
  constructor(id: string) {
    super('KEEL_NOT_FOUND', `no review item "${id.slice(0, 64)}"`, { param: 'id' });
    this.name = 'ReviewNotFoundError';
  }
}

/** The item is not in a state that allows this (resolving a closed item, exporting an unresolved one). */
export class ReviewStateError extends KeelError {
  constructor(message: string) {
    super('KEEL_INVALID_REQUEST', message, { param: 'id' });
    this.name = 'ReviewStateError';
  }
}
