const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accept a client's x-request-id only if it is short and plain; otherwise make one. */
export function requestId(fromClient: unknown): string {
  if (typeof fromClient === 'string' && REQUEST_ID.test(fromClient)) return fromClient;
  return `req_${timeOrderedHex()}`;
}

const random = new Uint32Array(3);

/**
 * 32 hex digits, as before: 12 of milliseconds then 20 random ones: ids sort by creation time (like UUIDv7), so a
 * store's primary-key B-tree grows at its right edge instead of taking a random page per insert.
 */
function timeOrderedHex(): string {
  globalThis.crypto.getRandomValues(random);
  return (
    Date.now().toString(16).padStart(12, '0') +
    random[0]!.toString(16).padStart(8, '0') +
    random[1]!.toString(16).padStart(8, '0') +
    random[2]!.toString(16).padStart(8, '0').slice(4)
  );
}

export function completionId(): string {
  return `chatcmpl-${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
