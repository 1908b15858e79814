/**
 * Shadow traffic: for a sample of requests (by request id hash, so a test knows exactly which), the
 * candidate (another prompt label, another route, or both) runs in the background after the answer
 * is sent. It is never awaited by the caller and never shown; both sides, with their validation, go
 * to the release sink. Concurrency is bounded: when saturated a shadow run is dropped and counted.
 */
import type { Clock } from '../core/clock.ts';
import { type AttemptResult, runAttempt } from './attempt.ts';
import { inSample } from './buckets.ts';
import type { CompiledFeature } from './config.ts';
import type { ArmOutcome, ChatPort, FeatureInput, PromptsPort, ReleaseSink } from './ports.ts';

export interface ShadowJob {
  feature: string;
  requestId: string;
  baseline: ArmOutcome;
  /** Runs the candidate; resolves with its outcome whatever happens (errors are outcomes). */
  candidate: (signal: AbortSignal) => Promise<ArmOutcome>;
}

export interface ShadowRunnerOptions {
  sink: ReleaseSink;
  /** Shadow runs in flight at once; more are dropped. Default 4. */
  maxConcurrent?: number;
  /** A shadow run is abandoned after this long. Default 30 s. */
  timeoutMs?: number;
  clock: Clock;
}

export interface ShadowCounts {
  running: number;
  completed: number;
  dropped: number;
  failed: number;
}

export class ShadowRunner {
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts: ShadowCounts = { running: 0, completed: 0, dropped: 0, failed: 0 };
  private readonly maxConcurrent: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ShadowRunnerOptions) {
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Whether this request is in the shadow sample: deterministic in the request id. */
  sampled(feature: string, requestId: string, percent: number): boolean {
    return inSample(`shadow|${feature}|${requestId}`, percent);
  }

  get stats(): ShadowCounts {
    return { ...this.counts };
  }

  /** Starts the job on a later turn of the event loop; false (and counted) when saturated or closed. */
  schedule(job: ShadowJob): boolean {
    if (this.controller.signal.aborted || this.counts.running >= this.maxConcurrent) {
      this.counts.dropped++;
      return false;
    }
    this.counts.running++;
    // setImmediate: the caller's continuation (writing the response) runs before the shadow starts.
    const run: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(job))
      .finally(() => {
        this.counts.running--;
        this.inFlight.delete(run);
      });
    this.inFlight.add(run);
    return true;
  }

  private async run(job: ShadowJob): Promise<void> {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const candidate = await job.candidate(signal);
      this.options.sink.record({
        kind: 'shadow',
        feature: job.feature,
        requestId: job.requestId,
        at: this.options.clock.now(),
        baseline: job.baseline,
        candidate,
      });
      this.counts.completed++;
    } catch {
      // A shadow run must never surface: a broken candidate or sink is a count, not a crash.
      this.counts.failed++;
    }
  }

  /** Resolves when every shadow run started so far has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Abandons running shadows and refuses new ones. */
  async close(): Promise<void> {
    this.controller.abort(new Error('shadow runner closed'));
    await this.idle();
  }
}

/** An arm's outcome from its (first) attempt. */
export function armOutcome(attempt: AttemptResult, version: string, route: string): ArmOutcome {
  const { step } = attempt;
  return {
    version,
    route,
    ok: step.ok,
    validation: step.validation,
    latencyMs: step.latencyMs,
    costUsd: step.costUsd,
    text: attempt.text,
    error: step.error?.message,
  };
}

export interface CandidateSpec {
  feature: CompiledFeature;
  /** The input as the baseline saw it (after input guards). */
  input: FeatureInput;
  /** The baseline's version and rendered messages, used when the shadow names no label. */
  baselineVersion: string;
  baselineMessages: FeatureInput['messages'];
  temperature: number | undefined;
}

/** Runs the candidate once: the shadow label's version (or the baseline's) on the shadow route. */
export async function runCandidate(
  deps: { prompts: PromptsPort; chat: ChatPort; clock: Clock },
  spec: CandidateSpec,
  signal: AbortSignal,
): Promise<ArmOutcome> {
  const { feature } = spec;
  const shadow = feature.config.release!.shadow!;
  const route = shadow.route ?? feature.config.route;
  const prompt = feature.config.prompt;
  let version = spec.baselineVersion;
  let messages = spec.baselineMessages;
  let temperature = spec.temperature;
  const startedAt = deps.clock.now();
  try {
    if (shadow.label !== undefined && prompt !== undefined) {
      const resolved = await deps.prompts.resolve(prompt.name, shadow.label);
      if (resolved === undefined) throw new Error(`prompt ${prompt.name} has no label "${shadow.label}"`);
      version = resolved;
      const rendered = await deps.prompts.render(prompt.name, version, spec.input.variables);
      messages = rendered.messages;
      temperature = rendered.temperature;
    }
    const attempt = await runAttempt(
      deps.chat,
      deps.clock,
      {
        feature,
        route,
        version,
        plan: { messages: [...messages, ...spec.input.messages], temperature },
        kind: 'attempt',
        why: 'shadow candidate',
      },
      signal,
    );
    return armOutcome(attempt, version, route);
  } catch (err) {
    return {
      version,
      route,
      ok: false,
      latencyMs: deps.clock.now() - startedAt,
      costUsd: 0,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}
