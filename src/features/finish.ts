/**
 * Turning the answer a call found into the caller's result. A model answer passes the output guards,
 * gets its redacted placeholders back (when that keeps it valid), marks its version known-good and
 * becomes the input's last good answer. Cached answers, clarifying questions and escalations are
 * returned as they are.
 */
import type { Clock } from '../core/clock.ts';
import { inputKey } from './answer-cache.ts';
import { checkContract } from './contract.ts';
import { FeatureError } from './errors.ts';
import type { Answer } from './fallbacks.ts';
import { restorePlaceholders } from './placeholders.ts';
import type { AnswerCachePort, GuardsPort, PromptsPort } from './ports.ts';
import { type FeatureResult, syntheticCompletion, withText } from './result.ts';
import { type FeatureRun, guardContext, totalCost } from './run.ts';

export interface FinishDeps {
  prompts: PromptsPort;
  guards?: GuardsPort | undefined;
  cache: AnswerCachePort;
  clock: Clock;
}

type ResultBase = Omit<FeatureResult, 'status' | 'output' | 'text' | 'answeredBy'>;
type ModelAnswer = Extract<Answer, { source: 'model' }>;

export async function finish(
  deps: FinishDeps,
  run: FeatureRun,
  answer: Answer,
  signal: AbortSignal,
): Promise<FeatureResult> {
  const now = deps.clock.now();
  const base: ResultBase = {
    path: run.path,
    releaseArm: run.arm,
    guards: run.guards,
    placeholders: 'none',
    costUsd: totalCost(run.path),
    latencyMs: now - run.startedAt,
    promptVersion: run.prompt!.version,
    decision: 'fallback',
  };
  switch (answer.source) {
    case 'escalate':
      return {
        ...base,
        status: 202,
        output: null,
        text: '',
        answeredBy: 'escalate',
        reviewId: answer.reviewId,
      };
    case 'clarify': {
      const completion = syntheticCompletion(run.feature.name, answer.text, now);
      return {
        ...base,
        status: 200,
        output: answer.text,
        text: answer.text,
        answeredBy: 'clarify',
        completion,
      };
    }
    case 'cached': {
      const completion = syntheticCompletion(run.feature.name, answer.text, now);
      const { text, value, version } = answer;
      return {
        ...base,
        status: 200,
        output: value,
        text,
        answeredBy: 'cached',
        promptVersion: version,
        completion,
      };
    }
    case 'model':
      return finishModelAnswer(deps, run, answer, signal, base);
  }
}

async function finishModelAnswer(
  deps: FinishDeps,
  run: FeatureRun,
  answer: ModelAnswer,
  signal: AbortSignal,
  base: ResultBase,
): Promise<FeatureResult> {
  const { feature } = run;
  let { text, value } = await guardOutput(deps, run, answer, signal);
  let placeholders: FeatureResult['placeholders'] = 'none';
  if (Object.keys(run.placeholders).length > 0) {
    placeholders = 'kept';
    if (feature.config.placeholders === 'restore') {
      const restored = restorePlaceholders(text, run.placeholders, feature.config.contract !== 'text');
      const checked = checkContract(restored, feature.config.contract, feature.validate);
      // An original that breaks the contract (too long, wrong format) leaves its placeholder in.
      if (checked.ok) {
        text = restored;
        value = checked.value;
        placeholders = 'restored';
      }
    }
  }
  await remember(deps, run, answer.version, text);
  const completion = answer.attempt.completion ? withText(answer.attempt.completion, text) : undefined;
  return {
    ...base,
    status: 200,
    output: value,
    text,
    answeredBy: 'model',
    decision: answer.decision,
    promptVersion: answer.version,
    placeholders,
    ...(answer.attempt.step.route ? { route: answer.attempt.step.route } : {}),
    ...(completion ? { completion } : {}),
  };
}

async function guardOutput(
  deps: FinishDeps,
  run: FeatureRun,
  answer: ModelAnswer,
  signal: AbortSignal,
): Promise<{ text: string; value: unknown }> {
  const { text, value } = answer;
  if (!deps.guards) return { text, value };
  const verdict = await deps.guards.checkOutput(text, guardContext(run, signal));
  if (verdict.action === 'block') {
    run.guards.push({ stage: 'output', action: 'block', guard: verdict.guard, findings: [] });
    throw new FeatureError('KEEL_OUTPUT_BLOCKED', `answer withheld by ${verdict.guard}: ${verdict.reason}`, {
      guard: verdict.guard,
      path: run.path,
    });
  }
  run.guards.push({ stage: 'output', action: verdict.action, findings: verdict.findings ?? [] });
  if (verdict.action === 'allow') return { text, value };
  const checked = checkContract(verdict.text, run.feature.config.contract, run.feature.validate);
  if (!checked.ok) {
    throw new FeatureError(
      'KEEL_OUTPUT_BLOCKED',
      `answer withheld: the output guards' redaction broke the contract (${checked.errors.join('; ')})`,
      { path: run.path },
    );
  }
  return { text: verdict.text, value: checked.value };
}

/** A valid answer: its version is known-good and it is the input's last good answer. */
async function remember(deps: FinishDeps, run: FeatureRun, version: string, text: string): Promise<void> {
  const { prompt } = run.feature.config;
  // Bookkeeping must not fail an answer that is ready.
  try {
    if (prompt) await deps.prompts.markKnownGood(prompt.name, version);
  } catch {}
  try {
    const key = inputKey(run.feature.name, run.raw);
    await deps.cache.set(key, { text, promptVersion: version, storedAt: deps.clock.now() });
  } catch {}
}
