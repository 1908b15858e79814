/**
 * After a call: its canary outcome goes to the release sink, and if it is in the shadow sample the
 * candidate is scheduled in the background. Nothing here can delay or fail the caller's answer.
 */
import type { Clock } from '../core/clock.ts';
import type { ChatPort, PromptsPort, ReleaseSink } from './ports.ts';
import type { FeatureResult } from './result.ts';
import { type FeatureRun, totalCost } from './run.ts';
import { armOutcome, runCandidate, type ShadowRunner } from './shadow.ts';

export interface ReleaseDeps {
  sink?: ReleaseSink | undefined;
  shadow?: ShadowRunner | undefined;
  prompts: PromptsPort;
  chat: ChatPort;
  clock: Clock;
}

export function recordRelease(deps: ReleaseDeps, run: FeatureRun, result: FeatureResult | undefined): void {
  const { feature, first, prompt } = run;
  const release = feature.config.release;
  if (!release || !first || !prompt) return;
  if (release.canary && deps.sink) {
    try {
      deps.sink.record({
        kind: 'canary',
        feature: feature.name,
        requestId: run.input.requestId,
        at: deps.clock.now(),
        arm: run.arm,
        outcome: {
          version: prompt.version,
          route: feature.config.route,
          ok: result !== undefined && result.decision !== 'fallback',
          validation: first.step.validation,
          latencyMs: deps.clock.now() - run.startedAt,
          costUsd: totalCost(run.path),
        },
      });
    } catch {}
  }
  const { shadow } = deps;
  // A canary call is itself the candidate's traffic: shadows compare against the baseline only.
  if (!release.shadow || !shadow || run.arm !== 'baseline') return;
  if (!shadow.sampled(feature.name, run.input.requestId, release.shadow.percent)) return;
  shadow.schedule({
    feature: feature.name,
    requestId: run.input.requestId,
    baseline: armOutcome(first, prompt.version, feature.config.route),
    candidate: (signal) =>
      runCandidate(
        deps,
        {
          feature,
          input: run.guarded,
          baselineVersion: prompt.version,
          baselineMessages: prompt.rendered.messages,
          temperature: prompt.rendered.temperature,
        },
        signal,
      ),
  });
}
