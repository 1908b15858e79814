import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { KeelConfig } from '../config/schema.ts';
import { KeelError, toOpenAIError } from '../core/errors.ts';
import { requestId } from '../core/ids.ts';
import type { KeyRecord } from '../edge/keys/keys.ts';
import type { Router } from '../router/router.ts';
import { type AdminOptions, registerAdmin } from './admin.ts';
import { type Authenticate, gatewayKeyCheck } from './auth.ts';
import { chatHandler, gated, outcomeHeaders } from './chat.ts';
import type { Edge } from './edge.ts';
import { errorHandler, sendError } from './errors.ts';
import { serveChatFast } from './fast-chat.ts';
import { FEATURE_MODEL_PREFIX, type FeatureRuntime, featureHandler } from './features.ts';
import { parseEmbeddingRequest } from './schemas.ts';
import type { RequestRecord } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The virtual key the caller presented, once authenticated. */
    keelKey?: KeyRecord | undefined;
  }
}

export interface AppOptions {
  /** The live config and router; a reload swaps both, and handlers read them per request. */
  live: { config: KeelConfig; router: Router };
  edge?: Edge | undefined;
  /** The gateway key; when set, every /v1 request must present it. */
  apiKey?: string | undefined;
  logger?: boolean;
  /** Receives each request's record after it is answered (tracing, metrics). */
  onTrace?: ((rec: RequestRecord) => void) | undefined;
  admin?: AdminOptions;
  /** Features (`/v1/features/:name`, `model: "feature:NAME"`); absent in bare test apps. */
  features?: FeatureRuntime | undefined;
}

/** The Fastify app: OpenAI-compatible routes, health, and one error shape for everything. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { live } = options;
  const config = live.config;
  const limit = config.server.bodyLimitBytes;
  const { edge } = options;
  const check = gatewayKeyCheck(options.apiKey);
  const authenticate: Authenticate = edge
    ? (authorization) => edge.authenticate(authorization)
    : (authorization) => {
        check?.(authorization);
        return undefined;
      };
  const app = Fastify({
    bodyLimit: limit,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    requestIdHeader: false,
    // Per-request logs would be noise; failures are logged where they are handled, without bodies.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: config.server.requestTimeoutMs,
    // Also given to node's server at construction: set afterwards (as Fastify does), node bounds only
    // the headers with it, and a body that stopped arriving held its connection for 60 s (measured).
    // Node checks these timeouts on an interval (30 s by default): often enough for a 408 near the
    // deadline.
    http: {
      requestTimeout: config.server.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.server.requestTimeoutMs / 4)),
    },
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL) still answer in OpenAI's shape.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      sendError(reply, new KeelError('KEEL_INVALID_REQUEST', `malformed request: ${error.message}`));
    },
    // And so do the HTTP parser's (header too large, bad request line), written on the raw socket.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return;
      const code = (error as { code?: string }).code;
      const [status, reason, message] =
        code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'request headers are too large']
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout', 'the request was not received in time']
            : [400, 'Bad Request', 'malformed HTTP request'];
      const body = JSON.stringify(toOpenAIError(new KeelError('KEEL_INVALID_REQUEST', message)));
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${requestId(undefined)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
    logger:
      options.logger === false
        ? false
        : {
            level: config.server.logLevel,
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
          },
  });

  // JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');

  // One callback-style hook: every request gets its x-request-id, /v1 requests their caller. A key that
  // needs a store lookup is the only case that waits (async hooks cost a promise on every request).
  if (edge) app.decorateRequest('keelKey', undefined);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (!request.url.startsWith('/v1/')) return done();
    try {
      const key = authenticate(request.headers.authorization);
      if (!(key instanceof Promise)) {
        request.keelKey = key;
        return done();
      }
      key.then((found) => {
        request.keelKey = found;
        done();
      }, done);
    } catch (err) {
      done(err as Error);
    }
  });
  const deps = { live, edge, onTrace: options.onTrace, features: options.features };

  const onError = errorHandler(limit);
  app.setErrorHandler(onError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const known =
      ['/v1/chat/completions', '/v1/embeddings', '/v1/models'].includes(path) ||
      /^\/v1\/features\/[^/]+$/.test(path);
    const code = known ? 'KEEL_METHOD_NOT_ALLOWED' : 'KEEL_NOT_FOUND';
    sendError(reply, new KeelError(code, `no route for ${request.method} ${request.url.slice(0, 200)}`));
  });

  const chat = chatHandler(deps);
  app.post('/v1/chat/completions', chat);
  // The common chat request skips Fastify's request lifecycle; the rest is Fastify's (fast-chat.ts).
  serveChatFast(app, { limit, authenticate, handler: chat, onError });

  const handleFeature = deps.features ? featureHandler({ ...deps, features: deps.features }) : undefined;
  app.post<{ Params: { name: string } }>('/v1/features/:name', async (request, reply) => {
    if (!handleFeature) throw new KeelError('KEEL_FEATURE_NOT_FOUND', 'this gateway serves no features');
    return handleFeature(request, reply);
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = parseEmbeddingRequest(request.body);
    return gated(deps, { request, reply, endpoint: 'embeddings', body }, async (rec, signal) => {
      const result = await live.router.embeddings(body.model, body, signal, rec.attempts);
      rec.outcome = result;
      // Vectors are large and say nothing about a decision: the trace keeps their count and size.
      rec.response = { vectors: result.response.data.length, usage: result.response.usage };
      reply.headers(outcomeHeaders(result));
      return result.response;
    });
  });

  registerAdmin(app, options.admin ?? { store: undefined });

  // What the caller may use, and nothing else: a key restricted to some routes would otherwise learn
  // every route name here that a chat request cannot probe (403 comes before 404 there).
  app.get('/v1/models', async (request) => {
    const routes = request.keelKey?.routes ?? null;
    const usable = (route: string) => routes === null || routes.includes(route);
    return {
      object: 'list',
      data: [
        ...[...live.router.routes.values()]
          .filter((route) => usable(route.name))
          .map((route) => ({
            id: route.name,
            object: 'model',
            created: 0,
            owned_by: 'keel',
            description: route.config.description ?? null,
          })),
        ...Object.entries(live.config.features)
          .filter(([, feature]) => usable(feature.route))
          .map(([name, feature]) => ({
            id: `${FEATURE_MODEL_PREFIX}${name}`,
            object: 'model',
            created: 0,
            owned_by: 'keel',
            description: feature.description ?? null,
          })),
      ],
    };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const router = live.router;
    const targets = router.health();
    const open = new Set(targets.filter((t) => t.breaker === 'open').map((t) => t.model));
    const routes = [...router.routes.values()].map((r) => ({
      route: r.name,
      available: r.targets.some((t) => !open.has(t.name)),
    }));
    const ready = routes.every((r) => r.available);
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unavailable', routes, targets };
  });

  return app;
}
