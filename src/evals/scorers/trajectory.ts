/**
 * Trajectory scorers for tool-using runs, over the run's `toolCalls` list: a tool was used, a call had
 * the expected arguments (subset deep-equal), the expected tools came in order (as a subsequence), and
 * the run stayed under a step ceiling. A run that reported no `toolCalls` list is an error; an empty list
 * means no tool was called.
 */
import {
  binary,
  isScoreError,
  type Param,
  resolveParam,
  type ScoreContext,
  type ScoreError,
  type ScoreResult,
  type Scorer,
  scoreError,
  type ToolCallRecord,
} from './scorer.ts';

/**
 * True when `expected` is contained in `actual`: object keys of `expected` present and contained
 * recursively (extra keys in `actual` allowed); arrays of equal length, element by element; other values equal.
 */
export function isSubset(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => isSubset(item, actual[i]))
    );
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(
      ([key, value]) =>
        Object.hasOwn(actual, key) && isSubset(value, (actual as Record<string, unknown>)[key]),
    );
  }
  return Object.is(expected, actual);
}

/** A call's arguments as an object: JSON text is parsed; unparsable text stays text. */
export function callArguments(call: ToolCallRecord): unknown {
  if (typeof call.arguments !== 'string') return call.arguments;
  try {
    return JSON.parse(call.arguments);
  } catch {
    return call.arguments;
  }
}

/** A deterministic scorer over the run's tool calls: a run that reported no `toolCalls` list is an error. */
function overCalls(name: string, judge: (calls: ToolCallRecord[], ctx: ScoreContext) => ScoreResult): Scorer {
  return {
    name,
    kind: 'deterministic',
    async score(ctx) {
      if (!ctx.toolCalls) return scoreError(`case "${ctx.evalCase.id}": the run reported no toolCalls`);
      return judge(ctx.toolCalls, ctx);
    },
  };
}

function required<T>(param: Param<T>, ctx: ScoreContext, what: string): T | ScoreError {
  return resolveParam(param, ctx.evalCase) ?? scoreError(`case "${ctx.evalCase.id}" gives no ${what}`);
}

/** 1 when the run called `tool`. @example toolUsed({ tool: 'search_orders' }) */
export function toolUsed(options: { name?: string; tool: Param<string> }): Scorer {
  return overCalls(options.name ?? 'tool-used', (calls, ctx) => {
    const tool = required(options.tool, ctx, 'tool name');
    if (isScoreError(tool)) return tool;
    const used = calls.some((call) => call.name === tool);
    return binary(
      used,
      used ? undefined : `${tool} not called (called: ${calls.map((c) => c.name).join(', ') || 'none'})`,
    );
  });
}

/**
 * 1 when some call to `tool` has arguments containing `arguments` (subset deep-equal).
 * @example toolArguments({ tool: 'search_orders', arguments: { status: 'open' } })
 */
export function toolArguments(options: {
  name?: string;
  tool: Param<string>;
  arguments: Param<Record<string, unknown>>;
}): Scorer {
  return overCalls(options.name ?? 'tool-arguments', (calls, ctx) => {
    const tool = required(options.tool, ctx, 'tool name');
    if (isScoreError(tool)) return tool;
    const expected = required(options.arguments, ctx, 'expected arguments');
    if (isScoreError(expected)) return expected;
    const candidates = calls.filter((call) => call.name === tool);
    const matched = candidates.some((call) => isSubset(expected, callArguments(call)));
    if (matched) return binary(true);
    const seen = candidates.map((c) => JSON.stringify(callArguments(c))).join(' | ');
    return binary(false, candidates.length ? `${tool} called with ${seen}` : `${tool} not called`);
  });
}

/**
 * The share of `sequence` found in order in the run's calls (the longest prefix of it that is a
 * subsequence of the calls); passes when all of it is.
 * @example toolOrder({ sequence: ['lookup_user', 'refund'] })
 */
export function toolOrder(options: { name?: string; sequence: Param<string[]> }): Scorer {
  return overCalls(options.name ?? 'tool-order', (calls, ctx) => {
    const sequence = required(options.sequence, ctx, 'tool sequence');
    if (isScoreError(sequence)) return sequence;
    if (sequence.length === 0) return scoreError(`case "${ctx.evalCase.id}": the tool sequence is empty`);
    let matched = 0;
    for (const call of calls) if (matched < sequence.length && call.name === sequence[matched]) matched++;
    const pass = matched === sequence.length;
    const result = { value: matched / sequence.length, pass };
    return pass
      ? result
      : {
          ...result,
          detail: `matched ${matched}/${sequence.length}; calls: ${calls.map((c) => c.name).join(' → ')}`,
        };
  });
}

/** 1 when the run made at most `maxSteps` tool calls. @example stepCeiling({ maxSteps: 5 }) */
export function stepCeiling(options: { name?: string; maxSteps: Param<number> }): Scorer {
  return overCalls(options.name ?? 'step-ceiling', (calls, ctx) => {
    const maxSteps = required(options.maxSteps, ctx, 'step ceiling');
    if (isScoreError(maxSteps)) return maxSteps;
    return binary(calls.length <= maxSteps, `${calls.length} steps (ceiling ${maxSteps})`);
  });
}
