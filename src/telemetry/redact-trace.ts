/**
 * Make a trace safe to store or export: bodies get the route's body policy, free text (error
 * messages, the decision path, which quotes upstream errors) is redacted, tool slots are treated as
 * bodies. Returns a new trace; the input is not modified. Fails closed: anything that cannot be
 * redacted is replaced, never passed through raw.
 */
import { applyBodyPolicy, type BodyPolicyMode, REDACTION_FAILED } from './redaction.ts';
import type { Trace, TraceSlots } from './trace.ts';

/**
 * `mode` undefined means the policy could not be determined: bodies are dropped as failed.
 * Free text is redacted ('hash' routes hash it, so equal values still correlate).
 */
export function redactTrace(trace: Trace, mode: BodyPolicyMode | undefined, salt: string): Trace {
  const textMode = mode === 'hash' && salt !== '' ? 'hash' : 'redact';
  const text = (s: string): string => {
    const out = applyBodyPolicy(s, textMode, salt);
    return typeof out === 'string' ? out : REDACTION_FAILED;
  };
  const body = (v: unknown): unknown =>
    mode === undefined ? REDACTION_FAILED : applyBodyPolicy(v, mode, salt);
  const list = (v: unknown[]): unknown[] => {
    const out = body(v);
    return Array.isArray(out) ? out : [out];
  };

  const slots: TraceSlots = {};
  for (const [k, v] of Object.entries(trace.slots ?? {}) as [keyof TraceSlots, unknown][]) {
    if (v === undefined) continue;
    if (k === 'promptVersion') slots.promptVersion = text(String(v));
    else if (k === 'feature') slots.feature = v as NonNullable<TraceSlots['feature']>;
    else if (k === 'evals') {
      // Scores are metadata kept under every body policy; only their free text is redacted.
      slots.evals = (v as NonNullable<TraceSlots['evals']>).map((e) => ({
        ...e,
        ...(e.explanation !== undefined ? { explanation: text(e.explanation) } : {}),
        ...(e.error !== undefined ? { error: text(e.error) } : {}),
      }));
    } else if (k === 'contextIds') slots.contextIds = (v as unknown[]).map((id) => text(String(id)));
    else if (k === 'toolCalls' || k === 'toolOutputs') slots[k] = list(v as unknown[]);
    else (slots as Record<string, unknown>)[k] = body(v);
  }

  const out: Trace = {
    ...trace,
    decisionPath: trace.decisionPath.map(text),
    spans: trace.spans.map((s) =>
      s.errorMessage === undefined ? { ...s } : { ...s, errorMessage: text(s.errorMessage) },
    ),
    slots,
  };
  if (trace.errorMessage !== undefined) out.errorMessage = text(trace.errorMessage);
  if (trace.request !== undefined) out.request = body(trace.request);
  if (trace.response !== undefined) out.response = body(trace.response);
  return out;
}
