const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accept a client's x-request-id only if it is short and plain; otherwise make one. */
export function requestId(fromClient: unknown): string {
  if (typeof fromClient === 'string' && REQUEST_ID.test(fromClient)) return fromClient;
  return `req_${timeOrderedHex()}`;
}

/**
 * 32 hex digits, as before: 12 of milliseconds, then 20 from a random UUID (76 random bits). Ids sort by creation time (like
 * UUIDv7), so a store's primary-key B-tree grows at its right edge instead of taking a random page per
 * insert. The random part comes from randomUUID, which draws from a cached entropy pool; a
 * getRandomValues call per id cost a syscall per request.
 */
function timeOrderedHex(): string {
  const uuid = globalThis.crypto.randomUUID();
  return (
    Date.now().toString(16).padStart(12, '0') +
    uuid.slice(0, 8) +
    uuid.slice(9, 13) +
    uuid.slice(14, 18) +
    uuid.slice(19, 23)
  );
}

export function completionId(): string {
  return `chatcmpl-${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
