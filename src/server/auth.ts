import { createHash, timingSafeEqual } from 'node:crypto';
import { KeelError } from '../core/errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A gateway key check. The expected key is kept only as a SHA-256 digest and compared in constant
 * time; the answer never hints at why a key was refused.
 */
export function gatewayKeyCheck(
  key: string | undefined,
): ((authorization: string | undefined) => void) | undefined {
  if (!key) return undefined;
  const expected = digest(key);
  return (authorization) => {
    const presented = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new KeelError(
        'KEEL_UNAUTHORIZED',
        'missing or invalid API key; send "Authorization: Bearer <key>"',
      );
    }
  };
}
