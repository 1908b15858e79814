/**
 * Which prompt version a call uses, rendered. The arm's label (`canary`, or the feature's label)
 * picks the version; when that version cannot be rendered, or the label points nowhere, the last
 * known-good version answers instead and the path says so. Inline prompts have one version: their hash.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { CANARY_LABEL, type ReleaseArm } from './canary.ts';
import type { CompiledFeature, InlineMessage } from './config.ts';
import type { DecisionStep } from './decision.ts';
import { FeatureError } from './errors.ts';
import type { PromptsPort, RenderedPrompt } from './ports.ts';

export interface PreparedPrompt {
  version: string;
  rendered: RenderedPrompt;
  /** The arm served: a canary call falls back to the baseline when there is no `canary` label. */
  arm: ReleaseArm;
  /** Set when the version is not the label's: the fallback step to put first in the path. */
  step?: DecisionStep;
  /** Why the first attempt runs this version. */
  why: string;
}

export function inlineVersion(messages: InlineMessage[]): string {
  return `inline-${createHash('sha256').update(JSON.stringify(messages)).digest('hex').slice(0, 12)}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function preparePrompt(
  prompts: PromptsPort,
  clock: Clock,
  feature: CompiledFeature,
  arm: ReleaseArm,
  variables: Record<string, unknown>,
  pinned?: string,
): Promise<PreparedPrompt> {
  const { prompt, messages } = feature.config;
  if (prompt === undefined) {
    const inline = messages!;
    const rendered = await prompts.renderInline(inline, variables);
    return { version: inlineVersion(inline), rendered, arm: 'baseline', why: 'inline prompt' };
  }
  if (pinned !== undefined) {
    const rendered = await prompts.render(prompt.name, pinned, variables);
    return { version: pinned, rendered, arm: 'baseline', why: `pinned version ${prompt.name}@${pinned}` };
  }
  const startedAt = clock.now();
  let served = arm;
  let label = arm === 'canary' ? CANARY_LABEL : prompt.label;
  let version = await prompts.resolve(prompt.name, label);
  if (version === undefined && arm === 'canary') {
    served = 'baseline';
    label = prompt.label;
    version = await prompts.resolve(prompt.name, label);
  }
  const why =
    served === arm
      ? `${served} arm: ${prompt.name}:${label}`
      : `canary arm, but ${prompt.name} has no "${CANARY_LABEL}" label: ${prompt.name}:${label}`;
  let failure: string;
  let cause: unknown;
  if (version !== undefined) {
    try {
      return { version, rendered: await prompts.render(prompt.name, version, variables), arm: served, why };
    } catch (err) {
      cause = err;
      failure = `version ${version} of ${prompt.name}:${label} cannot be rendered: ${message(err)}`;
    }
  } else {
    failure = `prompt ${prompt.name} has no label "${label}"`;
  }

  const good = await (version === undefined
    ? prompts.lastKnownGood(prompt.name)
    : prompts.lastKnownGood(prompt.name, version));
  if (good !== undefined) {
    try {
      const rendered = await prompts.render(prompt.name, good, variables);
      const step: DecisionStep = {
        kind: 'fallback',
        via: 'last_known_good',
        ok: true,
        promptVersion: good,
        latencyMs: clock.now() - startedAt,
        costUsd: 0,
        why: `${failure}; using the last known-good version ${good}`,
      };
      return { version: good, rendered, arm: served, step, why: `last known-good version of ${prompt.name}` };
    } catch {
      // The known-good version fails too: the labelled version's problem is the one to report.
    }
  }
  // A caller's mistake (a missing variable) keeps its own error, and its 400.
  if (cause !== undefined) throw cause;
  throw new FeatureError('KEEL_PROMPT_UNAVAILABLE', `${failure} and no known-good version`, {
    param: `features.${feature.name}.prompt`,
  });
}
