/**
 * The decision path of a feature call: every step (attempt, retry, fallback) with its prompt
 * version, route, validation result, latency, cost and why. Formats it for the `x-keel-decision`
 * header and for the trace's readable `decisionPath` lines.
 */
import type { ValidationFailureKind } from './contract.ts';

export type Decision = 'pass' | 'retry' | 'fallback';
export type StepKind = 'attempt' | 'retry' | 'fallback';
export type FallbackVia = 'last_known_good' | 'route' | 'cached' | 'clarify' | 'escalate';

export interface StepValidation {
  ok: boolean;
  kind?: ValidationFailureKind;
  errors?: string[];
}

export interface DecisionStep {
  kind: StepKind;
  /** For fallback steps: which fallback. */
  via?: FallbackVia;
  /** The step did what it set out to do (a valid answer; a version rendered; a review enqueued). */
  ok: boolean;
  promptVersion?: string;
  route?: string;
  /** The route target that answered. */
  target?: string;
  /** Present on every step where a model answered. */
  validation?: StepValidation;
  /** Why a step failed without a model answer (route down, render failed, review queue failed). */
  error?: { code: string; message: string };
  latencyMs: number;
  costUsd: number;
  why: string;
}

function outcome(step: DecisionStep): string {
  if (step.validation) return step.validation.ok ? 'pass' : (step.validation.kind ?? 'invalid');
  if (step.error) return step.error.code.toLowerCase();
  return step.ok ? 'ok' : 'miss';
}

/**
 * The `x-keel-decision` header value: the decision, then each step as `kind[-via]:outcome`.
 * @example decisionHeader('retry', steps) // 'retry; attempt:schema retry:pass'
 */
export function decisionHeader(decision: Decision, path: DecisionStep[]): string {
  const steps = path.map((s) => `${s.kind}${s.via ? `-${s.via}` : ''}:${outcome(s)}`);
  return [decision, steps.join(' ')].filter((part) => part !== '').join('; ');
}

/** One readable line per step, for the trace's `decisionPath`. */
export function describeSteps(path: DecisionStep[]): string[] {
  return path.map((s) => {
    const where = [
      s.promptVersion && `version ${s.promptVersion}`,
      s.route && `route ${s.route}`,
      s.target && `target ${s.target}`,
    ]
      .filter(Boolean)
      .join(', ');
    const problems = s.validation?.errors?.length ? ` (${s.validation.errors.join('; ')})` : '';
    const error = s.error ? ` (${s.error.code}: ${s.error.message})` : '';
    const head = `${s.kind}${s.via ? ` ${s.via}` : ''}`;
    return `${head}${where ? ` [${where}]` : ''}: ${outcome(s)}${problems}${error}, ${s.latencyMs} ms — ${s.why}`;
  });
}
