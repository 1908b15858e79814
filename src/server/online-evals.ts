/**
 * Online evaluation of feature answers. Heuristic scorers (refusal, latency, cost, length, and whether
 * the answer met the contract) run on every call and their results go on the trace. The judge (a
 * rubric scored by an LLM through a route) runs on a sample, after the answer is sent: the trace is
 * recorded once the verdict is in, so judged scores land on the same trace. The judge never holds the
 * caller's response, never blocks admission, and at most `maxJudging` verdicts are pending at once (a
 * sampled call beyond that is counted as skipped, not queued).
 *
 * Results use the OpenTelemetry GenAI evaluation shape (`gen_ai.evaluation.result`: name, score value,
 * label, explanation), so the OTLP exporter can send them as span events unchanged.
 */
import { createHash } from 'node:crypto';
import type { ChatRequest } from '../core/types.ts';
import type { EvalCase } from '../evals/case.ts';
import { costCeiling, latencyCeiling } from '../evals/scorers/budget.ts';
import { refusal } from '../evals/scorers/refusal.ts';
import { rubric } from '../evals/scorers/rubric.ts';
import type { JudgeFn, ScoreResult, Scorer } from '../evals/scorers/scorer.ts';
import { lengthBounds } from '../evals/scorers/text.ts';
import type { FeatureConfig } from '../features/config.ts';
import type { FeatureResult } from '../features/result.ts';
import type { Router } from '../router/router.ts';
import type { EvaluationResult } from '../telemetry/trace.ts';

export type { EvaluationResult };

export interface OnlineEvalStats {
  judged: number;
  judgeErrors: number;
  /** Sampled calls not judged because `maxJudging` verdicts were already pending. */
  skipped: number;
}

/** A feature call, as the scorers see it. */
export interface ScoredCall {
  feature: string;
  requestId: string;
  variables: Record<string, unknown>;
  messages: ChatRequest['messages'];
  result: FeatureResult;
}

function toResult(name: string, kind: EvaluationResult['kind'], score: ScoreResult): EvaluationResult {
  if ('error' in score) return { name, kind, error: score.error };
  const out: EvaluationResult = { name, kind, value: score.value };
  if (score.pass !== undefined) out.label = score.pass ? 'pass' : 'fail';
  if (score.detail !== undefined) out.explanation = score.detail.slice(0, 500);
  return out;
}

/** Deterministic sampling by request id: the same request is judged or not on every replica. */
export function sampled(requestId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const bucket = createHash('sha256').update(requestId).digest().readUInt32BE(0) / 0x1_0000_0000;
  return bucket < rate;
}

/** Built once per feature config (a reload brings new config objects, so new scorers). */
const scorersOf = new WeakMap<object, Scorer[]>();

function heuristicScorers(evals: NonNullable<FeatureConfig['evals']>): Scorer[] {
  const known = scorersOf.get(evals);
  if (known) return known;
  const scorers: Scorer[] = [];
  scorersOf.set(evals, scorers);
  if (evals.refusal) scorers.push(refusal());
  if (evals.maxLatencyMs !== undefined) scorers.push(latencyCeiling({ maxMs: evals.maxLatencyMs }));
  if (evals.maxCostUsd !== undefined) scorers.push(costCeiling({ maxUsd: evals.maxCostUsd }));
  if (evals.length) {
    const { min, max } = evals.length;
    scorers.push(
      lengthBounds({ ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }),
    );
  }
  return scorers;
}

export class OnlineEvaluator {
  readonly stats: OnlineEvalStats = { judged: 0, judgeErrors: 0, skipped: 0 };
  private pending = 0;

  constructor(
    private readonly live: { router: Router },
    private readonly maxJudging = 16,
  ) {}

  private context(call: ScoredCall) {
    const evalCase: EvalCase = {
      id: call.requestId,
      input: { variables: call.variables, messages: call.messages as EvalCase['input']['messages'] },
    };
    return {
      evalCase,
      output: call.result.text,
      latencyMs: call.result.latencyMs,
      costUsd: call.result.costUsd,
    };
  }

  /** Every call: the contract verdict and the configured heuristics. Cheap, no I/O. */
  async heuristics(config: FeatureConfig, call: ScoredCall): Promise<EvaluationResult[]> {
    const met = call.result.answeredBy !== 'escalate';
    const results: EvaluationResult[] = [
      {
        name: 'contract',
        kind: 'heuristic',
        value: met ? 1 : 0,
        label: met ? 'pass' : 'fail',
        explanation: `${call.result.decision}, answered by ${call.result.answeredBy}`,
      },
    ];
    if (!config.evals || call.result.answeredBy === 'escalate') return results;
    const ctx = this.context(call);
    for (const scorer of heuristicScorers(config.evals)) {
      results.push(toResult(scorer.name, 'heuristic', await scorer.score(ctx)));
    }
    return results;
  }

  /** A sampled call's judge verdict, or undefined when this call is not judged. */
  judge(config: FeatureConfig, call: ScoredCall): Promise<EvaluationResult[]> | undefined {
    const spec = config.evals?.judge;
    if (!spec || call.result.answeredBy === 'escalate' || !sampled(call.requestId, spec.sample)) {
      return undefined;
    }
    if (this.pending >= this.maxJudging) {
      this.stats.skipped++;
      return undefined;
    }
    this.pending++;
    const judgeFn: JudgeFn = async (messages, options) => {
      const signal = options?.signal ?? AbortSignal.timeout(30_000);
      const answer = await this.live.router.chat(
        spec.route,
        {
          model: spec.route,
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          temperature: 0,
          response_format: { type: 'json_object' },
        },
        signal,
      );
      const content = answer.completion.choices[0]?.message.content;
      return typeof content === 'string' ? content : '';
    };
    const scorer = rubric({ name: 'judge', judge: judgeFn, rubric: spec.rubric });
    return scorer
      .score(this.context(call))
      .then(
        (score) => toResult('judge', 'judged', score),
        (err: unknown) => ({
          name: 'judge',
          kind: 'judged' as const,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .then((result) => {
        if (result.error === undefined) this.stats.judged++;
        else this.stats.judgeErrors++;
        return [result];
      })
      .finally(() => {
        this.pending--;
      });
  }
}
