/**
 * The state of one feature call in flight, shared by the service and the steps that finish it:
 * input before and after guards, the prompt version, the decision path so far.
 */
import type { AttemptResult } from './attempt.ts';
import type { ReleaseArm } from './canary.ts';
import type { CompiledFeature } from './config.ts';
import type { DecisionStep } from './decision.ts';
import type { FeatureInput, GuardContext } from './ports.ts';
import type { PreparedPrompt } from './prompt-version.ts';
import type { FeatureCallInput, GuardNote } from './result.ts';

export interface FeatureRun {
  feature: CompiledFeature;
  input: FeatureCallInput;
  startedAt: number;
  arm: ReleaseArm;
  /** The caller's input as sent; the answer cache's key is computed from it. */
  raw: FeatureInput;
  /** The input as the model sees it (after input guards). */
  guarded: FeatureInput;
  /** placeholder → original, from input redaction. */
  placeholders: Record<string, string>;
  prompt?: PreparedPrompt;
  path: DecisionStep[];
  guards: GuardNote[];
  /** The first model attempt: the arm's outcome in release stats. */
  first?: AttemptResult;
  /** The last attempt the model answered, for a reviewer. */
  lastAnswered?: AttemptResult;
}

export const totalCost = (path: DecisionStep[]): number => path.reduce((sum, s) => sum + s.costUsd, 0);

export function guardContext(run: FeatureRun, signal: AbortSignal): GuardContext {
  const { input, feature } = run;
  return {
    feature: feature.name,
    requestId: input.requestId,
    spec: feature.config.guards,
    user: input.user,
    session: input.session,
    signal,
  };
}
