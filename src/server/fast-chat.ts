import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import { errorCodes, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import { requestId } from '../core/ids.ts';
import type { KeyRecord } from '../edge/keys/keys.ts';
import type { ThrownError } from './errors.ts';
import type { KeelReply, KeelRequest } from './http.ts';

/** The caller of a /v1 request (the app's onRequest hook and the fast path share it); throws a 401. */
export type Authenticate = (
  authorization: string | undefined,
) => KeyRecord | undefined | Promise<KeyRecord | undefined>;

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

/**
 * The common case of `POST /v1/chat/completions` on node's own HTTP server, ahead of Fastify: a JSON
 * body with a content-length within the limit and no query string. Everything else — other routes and
 * methods, other content types, chunked or oversized bodies, requests while closing — goes to Fastify
 * unchanged, so its parsing errors and 503-on-close stay the one place those are answered.
 *
 * The same chat handler, authentication and error handler serve both paths; only Fastify's request
 * lifecycle is skipped (about a tenth of a proxied request's CPU, measured in bench/README.md).
 */
export class FastChat {
  private app: FastifyInstance | undefined;
  private handler: Handler | undefined;
  private onError: ErrorHandler | undefined;
  private parseJson: ((text: string) => unknown) | undefined;
  private closing = false;

  constructor(
    private readonly limit: number,
    private readonly authenticate: Authenticate,
  ) {}

  /** Fastify's `serverFactory`: node's server, configured as Fastify would, with the fast path in front. */
  readonly serverFactory: FastifyServerFactory = (fastify, fastifyOptions) => {
    const options = fastifyOptions as {
      http?: ServerOptions;
      keepAliveTimeout?: number;
      requestTimeout?: number;
      connectionTimeout?: number;
    };
    const server = createServer(options.http ?? {}, (req, res) => {
      if (this.accepts(req)) this.handle(req, res);
      else fastify(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };

  /** Arms the fast path once the app exists: its logger, JSON parser, chat handler and error handler. */
  serve(app: FastifyInstance, handler: Handler, onError: ErrorHandler): void {
    this.app = app;
    this.handler = handler;
    this.onError = onError;
    // Fastify's own parser (prototype-poisoning checks included), so both paths accept the same bodies.
    const parser = app.getDefaultJsonParser('error', 'error');
    this.parseJson = (text) => {
      let result: { err: Error | null; body: unknown } = { err: null, body: undefined };
      parser(undefined as never, text, (err, body) => {
        result = { err, body };
      });
      if (result.err) throw result.err;
      return result.body;
    };
    app.addHook('preClose', (done) => {
      this.closing = true;
      done();
    });
  }

  private accepts(req: IncomingMessage): boolean {
    if (this.closing || this.handler === undefined || req.method !== 'POST' || req.url !== PATH) return false;
    const headers = req.headers;
    const type = headers['content-type'];
    if (type === undefined || headers['transfer-encoding'] !== undefined) return false;
    if (type !== 'application/json' && !/^application\/json\s*(;|$)/i.test(type)) return false;
    const length = Number(headers['content-length']);
    return length > 0 && length <= this.limit;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const app = this.app as FastifyInstance;
    const id = requestId(req.headers['x-request-id']);
    const reply = new FastReply(res, id);
    const request: FastRequest = {
      id,
      headers: req.headers,
      body: undefined,
      keelKey: undefined,
      log: app.log,
    };
    const fail = (err: unknown) => (this.onError as ErrorHandler)(err as ThrownError, request, reply);
    req.on('error', noop);
    // The caller first, as Fastify's onRequest hook does: a refused key is answered without the body.
    let key: ReturnType<Authenticate>;
    try {
      key = this.authenticate(req.headers.authorization);
    } catch (err) {
      fail(err);
      return;
    }
    if (key instanceof Promise) key.catch(noop);
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      this.run(request, reply, key, text).catch(fail);
    });
  }

  private async run(
    request: FastRequest,
    reply: FastReply,
    key: ReturnType<Authenticate>,
    text: string,
  ): Promise<void> {
    request.keelKey = key instanceof Promise ? await key : key;
    try {
      request.body = (this.parseJson as (text: string) => unknown)(text);
    } catch {
      // As Fastify does after a parse error: the client may send more, so the connection is closed.
      reply.header('connection', 'close');
      throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
    }
    reply.send(await (this.handler as Handler)(request, reply));
  }
}
