const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accept a client's x-request-id only if it is short and plain; otherwise make one. */
export function requestId(fromClient: unknown): string {
  if (typeof fromClient === 'string' && REQUEST_ID.test(fromClient)) return fromClient;
  return `req_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

export function completionId(): string {
  return `chatcmpl-${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
