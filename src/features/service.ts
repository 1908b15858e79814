/**
 * FeatureService: one call of a feature, end to end. Pick the release arm (sticky canary), run the
 * input guards, render the prompt version (last known-good when it cannot be), call the route and
 * validate; retry an invalid answer, then try the last known-good version, then the declared
 * fallbacks. The final answer passes the output guards, gets its redacted placeholders back, is
 * remembered as the last good answer, and marks its version known-good. Canary outcomes and shadow
 * runs go to the release sink after the answer, never before it.
 *
 *   const service = new FeatureService({ features: compileFeatures(config.features), prompts, chat });
 *   const result = await service.call('summarize', { variables: { text }, requestId }, signal);
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { inputKey, MemoryAnswerCache } from './answer-cache.ts';
import { type AttemptResult, type AttemptSpec, errorOf, runAttempt } from './attempt.ts';
import { canaryArm } from './canary.ts';
import type { CompiledFeature } from './config.ts';
import { type Decision, decisionHeader } from './decision.ts';
import { FeatureError } from './errors.ts';
import { type Answer, runFallbacks } from './fallbacks.ts';
import { finish } from './finish.ts';
import type {
  AnswerCachePort,
  ChatPort,
  FeatureInput,
  GuardsPort,
  PromptsPort,
  ReleaseSink,
  ReviewPort,
} from './ports.ts';
import { type PreparedPrompt, preparePrompt } from './prompt-version.ts';
import { recordRelease } from './release.ts';
import type { FeatureCallInput, FeatureResult } from './result.ts';
import { type AttemptPlan, retryPlan } from './retry.ts';
import { type FeatureRun, guardContext } from './run.ts';
import type { ShadowRunner } from './shadow.ts';

export interface FeatureServiceOptions {
  features: Map<string, CompiledFeature>;
  prompts: PromptsPort;
  chat: ChatPort;
  guards?: GuardsPort;
  review?: ReviewPort;
  /** Last valid answers; default a MemoryAnswerCache of 1000 entries. */
  cache?: AnswerCachePort;
  /** Where canary outcomes go. */
  release?: ReleaseSink;
  /** Runs shadow candidates (it has its own sink). */
  shadow?: ShadowRunner;
  clock?: Clock;
  /** Non-system messages a retry keeps (the context is narrowed). Default 4. */
  retryKeepMessages?: number;
}

export class FeatureService {
  private features: Map<string, CompiledFeature>;
  private readonly clock: Clock;
  private readonly cache: AnswerCachePort;
  private readonly keepMessages: number;

  constructor(private readonly options: FeatureServiceOptions) {
    this.features = options.features;
    this.clock = options.clock ?? systemClock;
    this.cache = options.cache ?? new MemoryAnswerCache();
    this.keepMessages = options.retryKeepMessages ?? 4;
  }

  /** A reloaded config's features; calls in flight finish with the ones they started with. */
  replace(features: Map<string, CompiledFeature>): void {
    this.features = features;
  }

  feature(name: string): CompiledFeature {
    const feature = this.features.get(name);
    if (feature) return feature;
    const known = [...this.features.keys()].slice(0, 20);
    const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
    throw new FeatureError(
      'KEEL_FEATURE_NOT_FOUND',
      `feature "${shown}" is not declared; features: ${known.map((k) => `"${k}"`).join(', ') || 'none'}`,
      { param: 'feature' },
    );
  }

  /**
   * Runs a feature. Resolves with the answer (200) or an escalation (202); throws a FeatureError
   * (blocked, no valid answer), a caller's KeelError from rendering, or the signal's reason.
   */
  async call(name: string, input: FeatureCallInput, signal: AbortSignal): Promise<FeatureResult> {
    const feature = this.feature(name);
    signal.throwIfAborted();
    const raw: FeatureInput = { variables: input.variables ?? {}, messages: input.messages ?? [] };
    const run: FeatureRun = {
      feature,
      input,
      startedAt: this.clock.now(),
      arm: input.version === undefined ? canaryArm(name, feature.config.release?.canary, input) : 'baseline',
      raw,
      guarded: raw,
      placeholders: {},
      path: [],
      guards: [],
    };
    let result: FeatureResult | undefined;
    try {
      await this.guardInput(run, signal);
      run.prompt = await preparePrompt(
        this.options.prompts,
        this.clock,
        feature,
        run.arm,
        run.guarded.variables,
        input.version,
      );
      run.arm = run.prompt.arm;
      if (run.prompt.step) run.path.push(run.prompt.step);
      const answer = await this.answer(run, run.prompt, signal);
      result = await finish({ ...this.options, cache: this.cache, clock: this.clock }, run, answer, signal);
      return result;
    } finally {
      if (!signal.aborted && input.version === undefined) {
        const { release: sink, shadow, prompts, chat } = this.options;
        recordRelease({ sink, shadow, prompts, chat, clock: this.clock }, run, result);
      }
    }
  }

  private async guardInput(run: FeatureRun, signal: AbortSignal): Promise<void> {
    const guards = this.options.guards;
    if (!guards) return;
    const verdict = await guards.checkInput(run.raw, guardContext(run, signal));
    if (verdict.action === 'block') {
      run.guards.push({ stage: 'input', action: 'block', guard: verdict.guard, findings: [] });
      throw new FeatureError('KEEL_GUARD_BLOCKED', `input blocked by ${verdict.guard}: ${verdict.reason}`, {
        status: verdict.status,
        guard: verdict.guard,
        path: run.path,
      });
    }
    run.guards.push({ stage: 'input', action: verdict.action, findings: verdict.findings ?? [] });
    if (verdict.action === 'redact') {
      run.guarded = verdict.input;
      run.placeholders = verdict.placeholders;
    }
  }

  private async attempt(
    run: FeatureRun,
    spec: Omit<AttemptSpec, 'feature' | 'user' | 'maxTokens'>,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const attempt = await runAttempt(
      this.options.chat,
      this.clock,
      { ...spec, feature: run.feature, user: run.input.user, maxTokens: run.prompt?.rendered.maxTokens },
      signal,
    );
    run.path.push(attempt.step);
    if (attempt.text !== undefined) run.lastAnswered = attempt;
    const prompt = run.feature.config.prompt;
    if (prompt && attempt.validation?.ok === false) {
      try {
        await this.options.prompts.reportFailure?.(prompt.name, spec.version);
      } catch {}
    }
    return attempt;
  }

  private modelAnswer(attempt: AttemptResult, version: string, decision: Decision): Answer | undefined {
    if (!attempt.validation?.ok || attempt.text === undefined) return undefined;
    return {
      source: 'model',
      attempt,
      text: attempt.text,
      value: attempt.validation.value,
      version,
      decision,
    };
  }

  private async answer(run: FeatureRun, prompt: PreparedPrompt, signal: AbortSignal): Promise<Answer> {
    const { feature } = run;
    const { route, retries, contract } = feature.config;
    const plan: AttemptPlan = {
      messages: [...prompt.rendered.messages, ...run.guarded.messages],
      temperature: prompt.rendered.temperature,
    };
    // Started on the known-good version already: whatever answers, the call fell back.
    const onKnownGood = prompt.step !== undefined;
    const { version } = prompt;
    let last = await this.attempt(run, { kind: 'attempt', route, version, plan, why: prompt.why }, signal);
    run.first = last;
    let answer = this.modelAnswer(last, version, onKnownGood ? 'fallback' : 'pass');
    // Retries are for answers that failed the contract; a route that failed already retried inside.
    for (let retry = 1; !answer && retry <= retries && last.text !== undefined; retry++) {
      const problems = last.step.validation?.errors ?? [];
      last = await this.attempt(
        run,
        {
          kind: 'retry',
          route,
          version,
          plan: retryPlan({
            base: plan.messages,
            contract,
            retry,
            temperature: plan.temperature,
            lastAnswer: last.text,
            errors: problems,
            keepMessages: this.keepMessages,
          }),
          why: `retry ${retry} of ${retries}: the answer failed the contract (${last.step.validation?.kind})`,
        },
        signal,
      );
      answer = this.modelAnswer(last, version, onKnownGood ? 'fallback' : 'retry');
    }
    if (!answer && last.text !== undefined && !onKnownGood && run.input.version === undefined)
      answer = await this.knownGood(run, version, signal);
    answer ??= await runFallbacks(
      { chat: this.options.chat, clock: this.clock, cache: this.cache, review: this.options.review },
      {
        feature,
        requestId: run.input.requestId,
        user: run.input.user,
        session: run.input.session,
        input: run.guarded,
        cacheKey: inputKey(feature.name, run.raw),
        version,
        plan,
        maxTokens: prompt.rendered.maxTokens,
        path: run.path,
        lastAttempt: run.lastAnswered,
      },
      signal,
    );
    if (answer) return answer;
    throw new FeatureError(
      'KEEL_FEATURE_FAILED',
      `feature "${feature.name}" found no valid answer (${decisionHeader('fallback', run.path)})`,
      { path: run.path },
    );
  }

  /** Answers of this version keep failing the contract: try the last known-good version once. */
  private async knownGood(
    run: FeatureRun,
    current: string,
    signal: AbortSignal,
  ): Promise<Answer | undefined> {
    const prompt = run.feature.config.prompt;
    if (!prompt) return undefined;
    const { prompts } = this.options;
    const good = await prompts.lastKnownGood(prompt.name);
    if (good === undefined || good === current) return undefined;
    const startedAt = this.clock.now();
    let rendered: Awaited<ReturnType<PromptsPort['render']>>;
    try {
      rendered = await prompts.render(prompt.name, good, run.guarded.variables);
    } catch (err) {
      run.path.push({
        kind: 'fallback',
        via: 'last_known_good',
        ok: false,
        promptVersion: good,
        error: errorOf(err),
        latencyMs: this.clock.now() - startedAt,
        costUsd: 0,
        why: `the last known-good version ${good} cannot be rendered`,
      });
      return undefined;
    }
    const attempt = await this.attempt(
      run,
      {
        kind: 'fallback',
        via: 'last_known_good',
        route: run.feature.config.route,
        version: good,
        plan: {
          messages: [...rendered.messages, ...run.guarded.messages],
          temperature: rendered.temperature,
        },
        why: `answers of version ${current} keep failing the contract; trying the last known-good version ${good}`,
      },
      signal,
    );
    return this.modelAnswer(attempt, good, 'fallback');
  }
}
