import type { FastifyReply, FastifyRequest } from 'fastify';
import { asKeelError, KeelError, toOpenAIError } from '../core/errors.ts';
import type { ChatChunk } from '../core/types.ts';
import { sseData } from '../providers/sse.ts';
import type { RouteOutcome, Router } from '../router/router.ts';
import { parseChatRequest } from './schemas.ts';

/** The x-keel-* headers that say what happened. */
export function outcomeHeaders(outcome: RouteOutcome): Record<string, string> {
  return {
    'x-keel-route': outcome.route,
    'x-keel-target': outcome.target,
    'x-keel-attempts': String(outcome.attempts.filter((a) => a.outcome !== 'skipped').length),
    'x-keel-decision': outcome.decision,
  };
}

/** An AbortSignal that fires when the client goes away before the answer is complete. */
export function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished)
      controller.abort(new KeelError('KEEL_CLIENT_CLOSED', 'client closed the connection'));
  });
  return controller.signal;
}

export function chatHandler(router: Router) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = parseChatRequest(request.body);
    router.route(body.model); // 404 before any work
    const signal = clientSignal(reply);
    if (body.stream === true) return streamChat(router, body, request, reply, signal);
    const result = await router.chat(body.model, body, signal);
    reply.headers(outcomeHeaders(result));
    return result.completion;
  };
}

function write(reply: FastifyReply, text: string): Promise<void> | undefined {
  if (reply.raw.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      reply.raw.off('drain', done);
      reply.raw.off('close', done);
      resolve();
    };
    reply.raw.on('drain', done);
    reply.raw.on('close', done);
  });
}

/**
 * Streams are failed over transparently until the first chunk; nothing is written before it. After the
 * first byte, any failure ends the stream with an OpenAI-shaped error event and closes the connection:
 * no `[DONE]`, so no client can mistake a truncated answer for a complete one.
 */
async function streamChat(
  router: Router,
  body: Parameters<Router['stream']>[1],
  request: FastifyRequest,
  reply: FastifyReply,
  signal: AbortSignal,
) {
  const outcome = await router.stream(body.model, body, signal);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': String(request.id),
    ...outcomeHeaders(outcome),
  });
  const send = (chunk: ChatChunk) => write(reply, sseData(JSON.stringify(chunk)));
  try {
    await send(outcome.first);
    for await (const chunk of outcome.rest) {
      if (raw.destroyed) break;
      const pending = send(chunk);
      if (pending) await pending;
    }
    if (raw.destroyed) return;
    raw.end('data: [DONE]\n\n');
  } catch (err) {
    const error = asKeelError(err);
    if (error.code === 'KEEL_INTERNAL') request.log.error({ err, requestId: request.id }, 'stream failed');
    else request.log.warn({ code: error.code, requestId: request.id }, 'stream failed after first byte');
    if (!raw.destroyed) {
      raw.end(sseData(JSON.stringify(toOpenAIError(error))), () => raw.socket?.end());
    }
  }
}
