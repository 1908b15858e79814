import { KeelError, toOpenAIError } from '../core/errors.ts';
import type { KeelReply, KeelRequest } from './http.ts';

/** What a handler or Fastify may throw: Fastify's errors carry a code and a status. */
export type ThrownError = Error & { code?: string | undefined; statusCode?: number | undefined };

/** Map Fastify's own errors (parsing, limits) to Keel's codes, so clients always get one shape. */
function fromFastify(err: ThrownError, limit: number): KeelError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KeelError('KEEL_BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KeelError('KEEL_UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KeelError('KEEL_INVALID_JSON', 'request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KeelError('KEEL_INVALID_REQUEST', 'content-length does not match the body');
    default:
      break;
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new KeelError('KEEL_INVALID_JSON', `request body is not valid JSON: ${err.message}`);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new KeelError('KEEL_INVALID_REQUEST', err.message);
  }
  return new KeelError('KEEL_INTERNAL', 'internal error', { cause: err });
}

export function errorHandler(limit: number) {
  return (err: ThrownError, request: KeelRequest, reply: KeelReply) => {
    const error = err instanceof KeelError ? err : fromFastify(err, limit);
    if (error.code === 'KEEL_INTERNAL') {
      request.log.error({ err: error.cause ?? error, requestId: request.id }, 'internal error');
      error.message = `internal error (request ${request.id})`;
    }
    sendError(reply, error);
  };
}

/** The status a client gets: 499 (client gone, attempt cancelled) never reaches anyone; say 503. */
export function httpStatus(error: KeelError): number {
  return error.status === 499 ? 503 : error.status;
}

export function sendError(reply: KeelReply, error: KeelError): void {
  if (error.retryAfterMs !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  reply.code(httpStatus(error));
  reply.send(toOpenAIError(error));
}
