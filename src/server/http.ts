import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { KeyRecord } from '../edge/keys/keys.ts';

/**
 * What the /v1 handlers read of a request. Fastify's request has this shape, and so does the chat fast
 * path's (fast-chat.ts), so one handler serves both.
 */
export interface KeelRequest {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** The virtual key the caller presented, once authenticated. */
  keelKey?: KeyRecord | undefined;
  readonly log: { error(obj: object, msg: string): void };
}

/** What the /v1 handlers do to a reply: Fastify's reply, or the fast path's. */
export interface KeelReply {
  readonly raw: ServerResponse;
  code(status: number): unknown;
  header(name: string, value: string): unknown;
  headers(values: Record<string, string>): unknown;
  getHeaders(): Record<string, unknown>;
  /** The handler writes to `raw` itself (streams). */
  hijack(): unknown;
  send(payload?: unknown): unknown;
}
