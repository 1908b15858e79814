/**
 * Deterministic budget scorers: the run answered within a latency ceiling, and cost no more than a
 * cost ceiling. A run that reported no cost is an error for the cost scorer, not a pass.
 */
import { KeelEvalError } from '../errors.ts';
import { binary, type Scorer, scoreError } from './scorer.ts';

/** 1 when the run's latency is at most `maxMs`. @example latencyCeiling({ maxMs: 2000 }) */
export function latencyCeiling(options: { name?: string; maxMs: number }): Scorer {
  if (!(options.maxMs > 0))
    throw new KeelEvalError('KEEL_EVAL_CONFIG_INVALID', 'latency scorer: maxMs must be > 0');
  return {
    name: options.name ?? 'latency',
    kind: 'deterministic',
    async score({ latencyMs }) {
      return binary(latencyMs <= options.maxMs, `${Math.round(latencyMs)} ms (ceiling ${options.maxMs} ms)`);
    },
  };
}

/** 1 when the run's cost is at most `maxUsd`. @example costCeiling({ maxUsd: 0.002 }) */
export function costCeiling(options: { name?: string; maxUsd: number }): Scorer {
  if (!(options.maxUsd >= 0))
    throw new KeelEvalError('KEEL_EVAL_CONFIG_INVALID', 'cost scorer: maxUsd must be ≥ 0');
  return {
    name: options.name ?? 'cost',
    kind: 'deterministic',
    async score({ evalCase, costUsd }) {
      if (costUsd === undefined) return scoreError(`case "${evalCase.id}": the run reported no costUsd`);
      return binary(costUsd <= options.maxUsd, `$${costUsd.toFixed(6)} (ceiling $${options.maxUsd})`);
    },
  };
}
