import { createHash, timingSafeEqual } from 'node:crypto';
import { KeelError } from '../core/errors.ts';
import type { KeyRecord } from '../edge/keys/keys.ts';

/** The caller of a /v1 request (the app's onRequest hook and the chat fast path share it); throws a 401. */
export type Authenticate = (
  authorization: string | undefined,
) => KeyRecord | undefined | Promise<KeyRecord | undefined>;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Does a request carry the gateway key? The expected key is kept only as a SHA-256 digest and compared
 * in constant time. Undefined when no key is configured.
 */
export function gatewayKeyMatcher(
  key: string | undefined,
): ((authorization: string | undefined) => boolean) | undefined {
  if (!key) return undefined;
  const expected = digest(key);
  return (authorization) => {
    const presented = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    return timingSafeEqual(digest(presented), expected);
  };
}

/** The same, as a check that throws a 401 which never hints at why the key was refused. */
export function gatewayKeyCheck(
  key: string | undefined,
): ((authorization: string | undefined) => void) | undefined {
  const matches = gatewayKeyMatcher(key);
  if (!matches) return undefined;
  return (authorization) => {
    if (!matches(authorization)) {
      throw new KeelError(
        'KEEL_UNAUTHORIZED',
        'missing or invalid API key; send "Authorization: Bearer <key>"',
      );
    }
  };
}
