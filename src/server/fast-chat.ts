import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCodes, type FastifyInstance } from 'fastify';
import { KeelError } from '../core/errors.ts';
import { requestId } from '../core/ids.ts';
import type { Authenticate } from './auth.ts';
import { sendError, type ThrownError } from './errors.ts';
import type { KeelReply, KeelRequest } from './http.ts';

/** The fast path's request: its body is read after the headers. */
interface FastRequest extends KeelRequest {
  body: unknown;
}

type Handler = (request: KeelRequest, reply: KeelReply) => Promise<unknown>;
type ErrorHandler = (err: ThrownError, request: KeelRequest, reply: KeelReply) => void;

const PATH = '/v1/chat/completions';
const JSON_TYPE = 'application/json; charset=utf-8';
const noop = () => {};

/** A reply written straight to node's response: status and headers are kept until `send`. */
class FastReply implements KeelReply {
  private status = 200;
  private readonly out: Record<string, string | number>;
  private hijacked = false;

  constructor(
    readonly raw: ServerResponse,
    id: string,
  ) {
    this.out = { 'x-request-id': id };
  }

  code(status: number): void {
    this.status = status;
  }

  header(name: string, value: string): void {
    this.out[name.toLowerCase()] = value;
  }

  headers(values: Record<string, string>): void {
    for (const name in values) this.out[name.toLowerCase()] = values[name] as string;
  }

  getHeaders(): Record<string, string | number> {
    return this.out;
  }

  hijack(): void {
    this.hijacked = true;
  }

  /** Objects as JSON, strings as they are (as Fastify would); nothing once hijacked or sent. */
  send(payload?: unknown): void {
    if (this.hijacked || this.raw.headersSent || payload === this) return;
    let body: string;
    if (typeof payload === 'string') {
      body = payload;
      this.out['content-type'] ??= 'text/plain; charset=utf-8';
    } else {
      body = payload === undefined ? '' : JSON.stringify(payload);
      this.out['content-type'] ??= JSON_TYPE;
    }
    this.out['content-length'] = Buffer.byteLength(body);
    this.raw.writeHead(this.status, this.out);
    this.raw.end(body);
  }
}

export interface FastChatOptions {
  /** The body limit, as Fastify's `bodyLimit`. */
  limit: number;
  authenticate: Authenticate;
  /** The chat route's handler, as registered with Fastify. */
  handler: Handler;
  /** The app's error handler. */
  onError: ErrorHandler;
}

/**
 * The common case of `POST /v1/chat/completions` on node's own request event, ahead of Fastify: a JSON
 * body with a content-length within the limit and no query string. Everything else — other routes and
 * methods, other content types, chunked or oversized bodies — goes to Fastify unchanged, so its parsing
 * errors stay the one place those are answered; while closing, every request gets a 503. The same
 * handler, authentication, JSON parser and error handler serve both; only Fastify's request lifecycle
 * is skipped.
 *
 * It wraps Fastify's request listener on the app's own server, so Fastify's timeouts and close handling
 * stay as they are (a second address Fastify binds, as for "localhost", is served by Fastify alone).
 */
export function serveChatFast(app: FastifyInstance, options: FastChatOptions): void {
  const { limit, authenticate, handler, onError } = options;
  const server = app.server;
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  const fastify = listeners[0];
  if (listeners.length !== 1 || fastify === undefined) {
    throw new Error(`the chat fast path expects Fastify's one request listener, found ${listeners.length}`);
  }
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  // Fastify's own parser (prototype-poisoning checks included), so both paths accept the same bodies.
  const parser = app.getDefaultJsonParser('error', 'error');
  const parseJson = (text: string, reply: FastReply): unknown => {
    let failed = false;
    let body: unknown;
    parser(undefined as never, text, (err, parsed) => {
      failed = err !== null;
      body = parsed;
    });
    if (failed) {
      // As Fastify answers a parse error: the client may send more, so the connection is closed.
      reply.header('connection', 'close');
      throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
    }
    return body;
  };

  const accepts = (req: IncomingMessage): boolean => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const headers = req.headers;
    const type = headers['content-type'];
    if (type === undefined || headers['transfer-encoding'] !== undefined) return false;
    if (type !== 'application/json' && !/^application\/json\s*(;|$)/i.test(type)) return false;
    const length = Number(headers['content-length']);
    return length > 0 && length <= limit;
  };

  const run = async (request: FastRequest, reply: FastReply, key: ReturnType<Authenticate>, text: string) => {
    request.keelKey = key instanceof Promise ? await key : key;
    request.body = parseJson(text, reply);
    reply.send(await handler(request, reply));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const id = requestId(req.headers['x-request-id']);
    const reply = new FastReply(res, id);
    const request: FastRequest = {
      id,
      headers: req.headers,
      body: undefined,
      keelKey: undefined,
      log: app.log,
    };
    const fail = (err: unknown) => onError(err as ThrownError, request, reply);
    req.on('error', noop);
    // The caller first, as Fastify's onRequest hook does: a refused key is answered without the body.
    let key: ReturnType<Authenticate>;
    try {
      key = authenticate(req.headers.authorization);
    } catch (err) {
      fail(err);
      return;
    }
    if (key instanceof Promise) key.catch(noop);
    // Buffers, decoded once at the end: a multi-byte character may straddle two chunks.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      run(request, reply, key, body.toString('utf8')).catch(fail);
    });
  };

  // While closing, every new request (on a connection still open) is refused in OpenAI's error shape;
  // Fastify's own 503 would answer in its shape.
  const refuse = (req: IncomingMessage, res: ServerResponse) => {
    const reply = new FastReply(res, requestId(req.headers['x-request-id']));
    reply.header('connection', 'close');
    sendError(
      reply,
      new KeelError('KEEL_SHUTTING_DOWN', 'the gateway is shutting down; retry on another replica'),
    );
  };

  server.removeListener('request', fastify);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing) refuse(req, res);
    else if (accepts(req)) handle(req, res);
    else fastify(req, res);
  });
}
