import type { FastifyReply, FastifyRequest } from 'fastify';
import { asKeelError, KeelError, toOpenAIError } from '../core/errors.ts';
import type { ChatChunk, ChatRequest } from '../core/types.ts';
import { sseData } from '../providers/sse.ts';
import type { RouteOutcome, Router } from '../router/router.ts';
import { httpStatus } from './errors.ts';
import { parseChatRequest } from './schemas.ts';
import { callerTags, type RequestRecord } from './tracing.ts';

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

/** A record for the trace of a request whose route is known; the handler fills in the rest. */
export function startRecord(
  request: FastifyRequest,
  endpoint: RequestRecord['endpoint'],
  route: string,
  user: unknown,
) {
  const rec: RequestRecord = {
    id: String(request.id),
    startedAt: Date.now(),
    endpoint,
    stream: false,
    route,
    request: request.body,
    attempts: [],
    status: 200,
    ...callerTags(request.headers, user),
  };
  return rec;
}

/**
 * Runs `work` for a request with a record, and hands the record to `onTrace` whatever happens —
 * after the answer is on its way. Errors are rethrown for the error handler.
 */
export async function traced<T>(
  rec: RequestRecord,
  onTrace: ((rec: RequestRecord) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const error = asKeelError(err);
    rec.error = error;
    rec.status = httpStatus(error);
    throw error;
  } finally {
    if (onTrace) setImmediate(onTrace, rec);
  }
}

export function chatHandler(router: Router, onTrace?: (rec: RequestRecord) => void) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const body = parseChatRequest(request.body);
    router.route(body.model); // 404 before any work
    const rec = startRecord(request, 'chat', body.model, body.user);
    rec.stream = body.stream === true;
    rec.messages = body.messages;
    return traced(rec, onTrace, async () => {
      const signal = clientSignal(reply);
      if (rec.stream) {
        await streamChat({ router, body, request, reply, signal, rec });
        return reply;
      }
      const result = await router.chat(body.model, body, signal, rec.attempts);
      rec.outcome = result;
      rec.response = result.completion;
      reply.headers(outcomeHeaders(result));
      return result.completion;
    });
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

interface StreamCall {
  router: Router;
  body: ChatRequest;
  request: FastifyRequest;
  reply: FastifyReply;
  signal: AbortSignal;
  rec: RequestRecord;
}

/**
 * Streams are failed over transparently until the first chunk; nothing is written before it. After the
 * first byte, any failure ends the stream with an OpenAI-shaped error event and closes the connection:
 * no `[DONE]`, so no client can mistake a truncated answer for a complete one.
 */
async function streamChat({ router, body, request, reply, signal, rec }: StreamCall) {
  const outcome = await router.stream(body.model, body, signal, rec.attempts);
  rec.outcome = outcome;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': String(request.id),
    ...outcomeHeaders(outcome),
  });
  let text = '';
  let finish: string | null = null;
  const send = (chunk: ChatChunk) => {
    const choice = chunk.choices[0];
    if (choice?.delta.content) text += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    return write(reply, sseData(JSON.stringify(chunk)));
  };
  try {
    await send(outcome.first);
    for await (const chunk of outcome.rest) {
      if (raw.destroyed) break;
      const pending = send(chunk);
      if (pending) await pending;
    }
    if (raw.destroyed) throw new KeelError('KEEL_CLIENT_CLOSED', 'client closed the stream');
    raw.end('data: [DONE]\n\n');
  } catch (err) {
    const error = asKeelError(err);
    rec.error = error;
    if (error.code === 'KEEL_INTERNAL') request.log.error({ err, requestId: request.id }, 'stream failed');
    if (!raw.destroyed) raw.end(sseData(JSON.stringify(toOpenAIError(error))), () => raw.socket?.end());
  } finally {
    rec.streamedText = text;
    rec.response = { role: 'assistant', content: text, finish_reason: finish };
  }
}
