/**
 * The review store as the feature pipeline's `ReviewPort` (src/features/ports.ts), written
 * structurally: this module may not import the pipeline. An escalation becomes an `escalated` item.
 * The pipeline's input is what the model saw, after its input guards; `redact` (the gateway's PII
 * redactor) runs over the item before it is stored. The caller's user and session ids are not kept:
 * a reviewer does not need them, and the trace id leads to them.
 *
 *   const service = new FeatureService({ ..., review: reviewPort(store, { redact }) });
 */
import type { ChatMessage } from '../core/types.ts';
import type { NewReviewItem, ReviewStore } from './store.ts';

/** The pipeline's ReviewRequest, as far as this adapter reads it. */
export interface EscalationRequest {
  feature: string;
  requestId: string;
  promptVersion: string;
  route: string;
  input: { variables: Record<string, unknown>; messages: ChatMessage[] };
  reason: string;
  lastAnswer?: string | undefined;
  validationErrors: string[];
}

export interface ReviewPortOptions {
  now?: () => number;
  redact?: ((item: NewReviewItem) => NewReviewItem) | undefined;
}

export function escalationItem(request: EscalationRequest): NewReviewItem {
  return {
    reason: 'escalated',
    feature: request.feature,
    route: request.route,
    traceId: request.requestId,
    promptVersion: request.promptVersion,
    input: { messages: request.input.messages, variables: request.input.variables },
    ...(request.lastAnswer !== undefined ? { output: request.lastAnswer } : {}),
    validation: { reason: request.reason, errors: request.validationErrors },
  };
}

export function reviewPort(
  store: Pick<ReviewStore, 'enqueue'>,
  options: ReviewPortOptions = {},
): { enqueue(request: EscalationRequest, signal?: AbortSignal): Promise<{ id: string }> } {
  const now = options.now ?? Date.now;
  return {
    async enqueue(request) {
      const item = escalationItem(request);
      const stored = await store.enqueue(options.redact ? options.redact(item) : item, now());
      return { id: stored.id };
    },
  };
}
