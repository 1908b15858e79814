import type { KeelConfig } from '../config/schema.ts';
import { systemClock } from '../core/clock.ts';
import { asKeelError, KeelError, toOpenAIError } from '../core/errors.ts';
import { completionId } from '../core/ids.ts';
import type { ChatChunk, ChatRequest, EmbeddingRequest } from '../core/types.ts';
import { KilledError } from '../edge/kill/errors.ts';
import { sseData } from '../providers/sse.ts';
import { Timebox } from '../resilience/deadline.ts';
import type { RouteOutcome, Router } from '../router/router.ts';
import type { AttemptRecord } from '../router/target.ts';
import { type Edge, FREE_PASS, parsePriority } from './edge.ts';
import { httpStatus } from './errors.ts';
import { FEATURE_MODEL_PREFIX, type FeatureRuntime, featureChat } from './features.ts';
import type { KeelReply, KeelRequest } from './http.ts';
import { parseChatRequest } from './schemas.ts';
import { callerTags, type RequestRecord } from './tracing.ts';

/** Attempts that called a target (skipped ones did not). */
function attemptsMade(attempts: readonly AttemptRecord[]): string {
  let made = 0;
  for (const attempt of attempts) if (attempt.outcome !== 'skipped') made++;
  return String(made);
}

/** The x-keel-* headers that say what happened. */
export function outcomeHeaders(outcome: RouteOutcome): Record<string, string> {
  return {
    'x-keel-route': outcome.route,
    'x-keel-target': outcome.target,
    'x-keel-attempts': attemptsMade(outcome.attempts),
    'x-keel-decision': outcome.decision,
  };
}

/** An abort scope that fires when the client goes away before the answer is complete. */
export function clientSignal(reply: KeelReply): Timebox {
  const scope = new Timebox(systemClock);
  const raw = reply.raw;
  // 'close' comes once per response: a plain listener, no once-wrapper.
  raw.on('close', () => {
    if (!raw.writableFinished)
      scope.abort(new KeelError('KEEL_CLIENT_CLOSED', 'client closed the connection'));
  });
  return scope;
}

/** A record for the trace of a request whose route is known; the handler fills in the rest. */
export function startRecord(
  request: KeelRequest,
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
 * The error a routed request failed with, recorded on its record; the answer still says what happened:
 * its route, the attempts made and `error` (no target answered), or `killed` for a kill switch.
 */
function failed(rec: RequestRecord, reply: KeelReply, err: unknown): KeelError {
  const error = asKeelError(err);
  rec.error = error;
  rec.status = httpStatus(error);
  reply.headers({
    'x-keel-route': rec.route,
    'x-keel-attempts': attemptsMade(rec.attempts),
    'x-keel-decision': err instanceof KilledError ? 'killed' : 'error',
  });
  return error;
}

/** The record goes to the trace pipeline after this turn (the answer is on its way first). */
function handOver(rec: RequestRecord, onTrace: ((rec: RequestRecord) => void) | undefined): void {
  if (onTrace) setImmediate(onTrace, rec);
  else rec.pass?.done({ tokens: 0, costUsd: 0 });
}

/** What the /v1 handlers share: the live router and config (swapped on reload), the edge, tracing. */
export interface HandlerDeps {
  live: { router: Router; config: KeelConfig };
  edge?: Edge | undefined;
  onTrace?: ((rec: RequestRecord) => void) | undefined;
  features?: FeatureRuntime | undefined;
}

interface Call {
  request: KeelRequest;
  reply: KeelReply;
  endpoint: RequestRecord['endpoint'];
  /** What admission and limits count (tokens, tools); its `model` is the route unless `feature` says. */
  body: ChatRequest | EmbeddingRequest;
  /** A feature call: the edge gates the feature's route, and the trace keeps the feature's own body. */
  feature?: { name: string; route: string; body: unknown; session?: string | undefined };
}

/**
 * The common path of a valid request: the key may use the route (403 before 404, so a restricted key
 * cannot probe which routes exist), the route exists, kill switches, admission and limits; then `work`
 * runs traced, with the limit headers set and the slot freed once the trace is built.
 */
export async function gated<T>(
  deps: HandlerDeps,
  call: Call,
  work: (rec: RequestRecord, signal: Timebox) => Promise<T>,
): Promise<T> {
  const { request, reply, body, feature } = call;
  const routeName = feature?.route ?? body.model;
  const key = request.keelKey;
  if (key && deps.edge) deps.edge.keys.authorize(key, routeName);
  const route = deps.live.router.route(routeName);
  const rec = startRecord(request, call.endpoint, routeName, body.user);
  if (feature) {
    rec.feature = feature.name;
    rec.request = feature.body;
    if (feature.session !== undefined) rec.session = feature.session;
  }
  if (key) rec.key = key.name;
  // One async frame for the gate and the trace hand-over (what `traced` does, inlined): every
  // frame and closure here is allocated per request, and in-flight objects are what the GC copies.
  try {
    const signal = clientSignal(reply);
    if (deps.edge) {
      const tools = 'tools' in body ? body.tools?.map((t) => t.function.name) : undefined;
      deps.edge.kill.check({ route: routeName, feature: rec.feature, tools });
      const pass = deps.edge.enter({
        key,
        route: routeName,
        request: body,
        priority: parsePriority(request.headers['x-keel-priority']),
        deadlineAt: Date.now() + route.config.deadlineMs,
        // Only a request that has to queue needs a platform signal: the box makes it on first read.
        abort: signal,
      });
      rec.pass = pass instanceof Promise ? await pass : pass;
      if (rec.pass !== FREE_PASS) reply.headers(rec.pass.headers);
    }
    return await work(rec, signal);
  } catch (err) {
    throw failed(rec, reply, err);
  } finally {
    handOver(rec, deps.onTrace);
  }
}

export function chatHandler(deps: HandlerDeps) {
  return async (request: KeelRequest, reply: KeelReply) => {
    const body = parseChatRequest(request.body);
    if (deps.features && body.model.startsWith(FEATURE_MODEL_PREFIX)) {
      return featureChat({ ...deps, features: deps.features }, request, reply, body);
    }
    try {
      return await gated(deps, { request, reply, endpoint: 'chat', body }, async (rec, signal) => {
        rec.stream = body.stream === true;
        rec.messages = body.messages;
        const router = deps.live.router;
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
    } catch (err) {
      // A killed route answers with its configured fallback instead of an error, if it has one.
      const onKill = deps.live.config.routes[body.model]?.onKill;
      if (err instanceof KilledError && err.scope === 'route' && onKill && !('error' in onKill)) {
        return killedAnswer(reply, body, onKill);
      }
      throw err;
    }
  };
}

function killedAnswer(
  reply: KeelReply,
  body: ChatRequest,
  onKill: { message: string } | { response: Record<string, unknown> },
) {
  reply.headers({ 'x-keel-route': body.model, 'x-keel-decision': 'killed', 'x-keel-attempts': '0' });
  reply.code(200);
  if ('response' in onKill) return onKill.response;
  const completion = {
    id: completionId(),
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: onKill.message },
        finish_reason: 'stop' as const,
      },
    ],
  };
  if (body.stream !== true) return completion;
  const chunk = {
    ...completion,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { role: 'assistant', content: onKill.message }, finish_reason: 'stop' }],
  };
  reply.header('content-type', 'text/event-stream; charset=utf-8');
  return `${sseData(JSON.stringify(chunk))}data: [DONE]\n\n`;
}

function write(reply: KeelReply, text: string): Promise<void> | undefined {
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
  request: KeelRequest;
  reply: KeelReply;
  signal: Timebox;
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
    ...(reply.getHeaders() as Record<string, string>),
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
