/**
 * Features over HTTP: `POST /v1/features/{name}` and `model: "feature:{name}"` on chat completions.
 * This file adapts Keel's modules to the feature pipeline's ports (src/features/ports.ts): the prompt
 * registry, the router (its attempts land in the request's trace), the guards, the review queue and
 * the release log. The pipeline itself knows none of them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeelConfig } from '../config/schema.ts';
import { systemClock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import type { ChatMessage, ChatRequest } from '../core/types.ts';
import { compileFeatures } from '../features/config.ts';
import { decisionHeader, describeSteps } from '../features/decision.ts';
import type { ChatPort, GuardsPort } from '../features/ports.ts';
import { ReleaseLog } from '../features/release-stats.ts';
import { type FeatureCallBody, featureCallBodySchema } from '../features/request.ts';
import type { FeatureResult } from '../features/result.ts';
import { FeatureService } from '../features/service.ts';
import { ShadowRunner } from '../features/shadow.ts';
import { promptsPort } from '../prompts/feature-port.ts';
import type { PromptRegistry } from '../prompts/registry.ts';
import { Timebox } from '../resilience/deadline.ts';
import { reviewPort } from '../review/feature-port.ts';
import type { NewReviewItem, ReviewStore } from '../review/store.ts';
import type { Router } from '../router/router.ts';
import { costUsd, type PriceBook } from '../telemetry/cost.ts';
import { redactDeep } from '../telemetry/redaction.ts';
import { gated, type HandlerDeps } from './chat.ts';
import { featureGuards } from './feature-guards.ts';
import type { KeelReply, KeelRequest } from './http.ts';
import { OnlineEvaluator } from './online-evals.ts';
import { parseBody } from './schemas.ts';
import type { RequestRecord } from './tracing.ts';

export const FEATURE_MODEL_PREFIX = 'feature:';

export interface FeatureRuntimeOptions {
  live: { config: KeelConfig; router: Router };
  prompts: PromptRegistry;
  review: ReviewStore;
  prices: PriceBook;
  guards?: GuardsPort | undefined;
}

/** The feature service of one gateway, with the logs `keel release status` reads. */
export interface FeatureRuntime {
  service: FeatureService;
  online: OnlineEvaluator;
  releases: ReleaseLog;
  shadow: ShadowRunner;
  /** A reloaded config's features. */
  apply(config: KeelConfig): void;
  close(): Promise<void>;
}

/** Each feature call's router attempts go to its own trace: found by the signal the call runs under. */
const recordsBySignal = new WeakMap<AbortSignal, RequestRecord>();

function chatPort(live: FeatureRuntimeOptions['live'], prices: PriceBook): ChatPort {
  return {
    async chat(route, request, signal) {
      const rec = recordsBySignal.get(signal);
      const result = await live.router.chat(route, request, signal, rec?.attempts);
      if (rec) rec.outcome = result;
      const usage = result.completion.usage;
      const tokens = {
        input: usage?.prompt_tokens ?? 0,
        output: usage?.completion_tokens ?? 0,
        cached: usage?.prompt_tokens_details?.cached_tokens ?? 0,
      };
      return {
        completion: result.completion,
        costUsd: costUsd(tokens, prices.priceOf(result.target)),
        target: result.target,
      };
    },
  };
}

/** The review queue is storage: nothing reaches it unredacted, whatever guards the feature has. */
export function redactReviewItem(item: NewReviewItem): NewReviewItem {
  return {
    ...item,
    input: redactDeep(item.input) as NewReviewItem['input'],
    ...(item.output !== undefined ? { output: redactDeep(item.output) } : {}),
  };
}

export function createFeatureRuntime(options: FeatureRuntimeOptions): FeatureRuntime {
  const releases = new ReleaseLog();
  const shadow = new ShadowRunner({ sink: releases, clock: systemClock, maxConcurrent: 16 });
  const service = new FeatureService({
    features: compileFeatures(options.live.config.features),
    prompts: promptsPort(options.prompts),
    chat: chatPort(options.live, options.prices),
    review: reviewPort(options.review, { redact: redactReviewItem }),
    release: releases,
    shadow,
    guards: options.guards ?? featureGuards(options.live),
  });
  return {
    service,
    online: new OnlineEvaluator(options.live),
    releases,
    shadow,
    apply: (config) => service.replace(compileFeatures(config.features)),
    close: () => shadow.close(),
  };
}

/** What a feature call put in its trace: the decision, every step, the version and validations. */
function recordFeature(rec: RequestRecord, result: FeatureResult): void {
  rec.featureRun = {
    decision: result.decision,
    steps: describeSteps(result.path),
    promptVersion: result.promptVersion,
    releaseArm: result.releaseArm,
    answeredBy: result.answeredBy,
    // What each guard did (names and entity types, never the matched text).
    guards: result.guards.filter((g) => g.action !== 'allow' || g.findings.length > 0),
    validation: result.path.filter((s) => s.validation).map((s) => ({ kind: s.kind, ...s.validation })),
    ...(result.reviewId ? { reviewId: result.reviewId } : {}),
  };
  rec.response = { role: 'assistant', content: result.text };
}

function featureHeaders(name: string, result: FeatureResult): Record<string, string> {
  return {
    'x-keel-feature': name,
    'x-keel-decision': decisionHeader(result.decision, result.path),
    'x-keel-prompt-version': result.promptVersion,
    'x-keel-release-arm': result.releaseArm,
    ...(result.route ? { 'x-keel-route': result.route } : {}),
  };
}

interface FeatureCall {
  name: string;
  variables: Record<string, unknown>;
  messages: ChatMessage[];
  user?: string | undefined;
  session?: string | undefined;
  version?: string | undefined;
}

/**
 * The edge (key, kill switches, admission and limits on the feature's route), then the service, all
 * traced. The trace's route is the feature's route; its feature is the name.
 */
async function runFeature(
  deps: HandlerDeps & { features: FeatureRuntime },
  request: KeelRequest,
  reply: KeelReply,
  call: FeatureCall,
  endpointBody: unknown,
): Promise<FeatureResult> {
  const feature = deps.features.service.feature(call.name);
  const route = feature.config.route;
  const counted: ChatRequest = { model: route, messages: call.messages };
  if (call.user !== undefined) counted.user = call.user;
  const gate = {
    request,
    reply,
    endpoint: 'chat' as const,
    body: counted,
    feature: { name: call.name, route, body: endpointBody, session: call.session },
  };
  return gated(deps, gate, async (rec, scope) => {
    // One deadline for the whole call (attempts, retries, fallbacks), under the client's own scope.
    const { deadlineMs } = feature.config;
    const box = new Timebox(systemClock, [scope]);
    box.arm(
      deadlineMs,
      () =>
        new KeelError('KEEL_DEADLINE_EXCEEDED', `feature "${call.name}" deadline of ${deadlineMs} ms passed`),
    );
    const signal = box.signal;
    recordsBySignal.set(signal, rec);
    try {
      const result = await deps.features.service.call(
        call.name,
        {
          variables: call.variables,
          messages: call.messages,
          user: rec.user,
          session: rec.session,
          requestId: rec.id,
          version: call.version,
        },
        signal,
      );
      recordFeature(rec, result);
      rec.status = result.status;
      const scored = {
        feature: call.name,
        requestId: rec.id,
        variables: call.variables,
        messages: call.messages,
        result,
      };
      rec.evals = await deps.features.online.heuristics(feature.config, scored);
      rec.pendingEvals = deps.features.online.judge(feature.config, scored);
      reply.headers(featureHeaders(call.name, result));
      return result;
    } catch (err) {
      const path = (err as { path?: unknown }).path;
      if (Array.isArray(path)) rec.featureRun = { decision: 'error', steps: describeSteps(path) };
      throw box.aborted ? box.reason : err;
    } finally {
      box.dispose();
    }
  });
}

/** `POST /v1/features/:name` → `{ output, decision, trace_id, ... }`; 202 with a review id when escalated. */
export function featureHandler(deps: HandlerDeps & { features: FeatureRuntime }) {
  return async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const body = parseBody<FeatureCallBody>(featureCallBodySchema, request.body);
    const result = await runFeature(
      deps,
      request,
      reply,
      {
        name: request.params.name,
        variables: body.variables,
        messages: body.messages as ChatMessage[],
        user: body.user,
        session: body.session,
        version: body.version,
      },
      body,
    );
    reply.code(result.status);
    return {
      id: `feat_${String(request.id).replace(/^req_/, '')}`,
      object: 'keel.feature.result',
      feature: request.params.name,
      output: result.output,
      text: result.text,
      decision: result.decision,
      answered_by: result.answeredBy,
      trace_id: String(request.id),
      prompt_version: result.promptVersion,
      release_arm: result.releaseArm,
      ...(result.route ? { route: result.route } : {}),
      ...(result.reviewId ? { review_id: result.reviewId } : {}),
      cost_usd: result.costUsd,
      latency_ms: result.latencyMs,
      path: result.path.map((s) => ({
        kind: s.kind,
        ...(s.via ? { via: s.via } : {}),
        ok: s.ok,
        ...(s.promptVersion ? { prompt_version: s.promptVersion } : {}),
        ...(s.route ? { route: s.route } : {}),
        ...(s.validation ? { validation: s.validation } : {}),
        ...(s.error ? { error: s.error } : {}),
        why: s.why,
      })),
    };
  };
}

/**
 * `model: "feature:NAME"` for OpenAI clients: the request's messages are the conversation, prompt
 * variables ride in an extra `variables` field (`extra_body` in the SDKs). The answer is a chat
 * completion whose text met the contract; a stream gets it as one chunk, since an answer is only
 * known to be valid once it is whole. An escalation answers 202 with the review id.
 */
export async function featureChat(
  deps: HandlerDeps & { features: FeatureRuntime },
  request: KeelRequest,
  reply: KeelReply,
  body: ChatRequest & { variables?: unknown },
) {
  const name = body.model.slice(FEATURE_MODEL_PREFIX.length);
  const variables = body.variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw new KeelError('KEEL_INVALID_REQUEST', 'variables: must be an object of prompt variables', {
      param: 'variables',
    });
  }
  const result = await runFeature(
    deps,
    request,
    reply,
    {
      name,
      variables: variables as Record<string, unknown>,
      messages: body.messages,
      user: body.user,
    },
    body,
  );
  if (result.status === 202 || !result.completion) {
    reply.code(202);
    return {
      id: `review_${result.reviewId ?? ''}`,
      object: 'keel.review',
      status: 'escalated',
      review_id: result.reviewId,
      message: 'no answer met the contract; the request is waiting for human review',
    };
  }
  const completion = { ...result.completion, model: body.model };
  if (body.stream !== true) return completion;
  const [choice] = completion.choices;
  const chunk = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: body.model,
    choices: [
      {
        index: 0,
        delta: { role: 'assistant', content: choice?.message.content ?? '' },
        finish_reason: choice?.finish_reason ?? 'stop',
      },
    ],
  };
  reply.header('content-type', 'text/event-stream; charset=utf-8');
  return `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`;
}
