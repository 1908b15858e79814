/** Review item ids: `rev_` and 16 random hex digits. */
import { randomBytes } from 'node:crypto';

export const REVIEW_ID = /^rev_[0-9a-f]{16}$/;

export function newReviewId(): string {
  return `rev_${randomBytes(8).toString('hex')}`;
}
