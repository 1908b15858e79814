import type { Clock } from '../../core/clock.ts';
import type { ChatRequest } from '../../core/types.ts';
import { costUsd, type Price } from '../../telemetry/cost.ts';
import {
  budgetExceededError,
  type EdgeError,
  type LimitDetail,
  type LimitKind,
  type LimitScope,
  rateLimitedError,
} from './errors.ts';
import type { BucketState, LedgerResult, LimitStore, RateRule, TakeResult } from './state.ts';

export type BudgetPeriod = 'day' | 'month';

export interface KeyLimits {
  /** The key's configured name (never the secret): it names the buckets and appears in messages. */
  name: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
  budgetUsd?: number | undefined;
  /** Calendar period of the budget, in UTC; default 'month'. */
  budgetPeriod?: BudgetPeriod | undefined;
}

export interface RouteLimits {
  name: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
}

export interface AdmitInput {
  key?: KeyLimits | undefined;
  route: RouteLimits;
  /** Prompt estimate plus the most the completion may use: see `estimateRequestTokens`. */
  estimatedTokens: number;
  /** The most the request may cost: see `worstCaseCost`. 0 when the price is unknown. */
  worstCaseUsd: number;
}

export interface Admission {
  ok: true;
  /** x-ratelimit-* headers for the tightest applicable limits. */
  headers: Record<string, string>;
  /** The request finished: replace the reservations with actual usage. Only the first settle/release counts. */
  settle(actualTokens: number, actualUsd: number): Promise<void>;
  /** The request failed before using anything: give every reservation (and the request) back. */
  release(): Promise<void>;
}

export interface Rejection {
  ok: false;
  /** A 429 naming the limit (requests, tokens or budget) and whose (key or route) it is. */
  error: EdgeError;
  /** x-ratelimit-* headers, plus retry-after (seconds) and retry-after-ms when waiting can help. */
  headers: Record<string, string>;
  retryAfterMs: number | undefined;
}

export type AdmitResult = Admission | Rejection;

export interface LimiterOptions {
  store: LimitStore;
  /** Used for budget periods (calendar, UTC). */
  clock: Clock;
  /** Prefix of every bucket and ledger name, so several gateways can share one store. */
  prefix?: string;
}

const MINUTE_MS = 60_000;

interface RateCheck {
  kind: 'requests' | 'tokens';
  scope: LimitScope;
  subject: string;
  bucket: string;
  rule: RateRule;
  cost: number;
}

interface BudgetCheck {
  scope: LimitScope;
  subject: string;
  ledger: string;
  limitUsd: number;
  amountUsd: number;
  periodEndsAt: number;
  period: BudgetPeriod;
}

/** What a rate limit looks like after the call, for headers. */
interface RateView {
  kind: 'requests' | 'tokens';
  limit: number;
  remaining: number;
  resetMs: number;
}

/**
 * Requests-per-minute, tokens-per-minute and budget limits for a key and a route.
 *
 * Admission takes every applicable bucket and reserves the budget at once (in parallel: one round
 * trip on Redis). If any refuses, the others are given back, so a refusal never consumes anything.
 * Compensation can briefly make another concurrent request see less room than there is (it may be
 * refused when it would fit) but never more, so limits cannot be overshot by concurrency.
 * Tokens are reserved from the estimate and settled to actual usage: the unused part is refunded,
 * usage above the estimate is charged (the bucket may go into debt, delaying later requests).
 */
export class Limiter {
  private readonly store: LimitStore;
  private readonly clock: Clock;
  private readonly prefix: string;

  constructor(options: LimiterOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.prefix = options.prefix ?? 'keel';
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const tokens = Math.max(0, Math.ceil(input.estimatedTokens));
    const rates = this.rateChecks(input, tokens);
    const budget = this.budgetCheck(input);

    const [rateOutcomes, budgetOutcome] = await Promise.all([
      Promise.allSettled(rates.map((c) => this.store.take(c.bucket, c.cost, c.rule))),
      budget === undefined
        ? Promise.resolve(undefined)
        : Promise.allSettled([
            this.store.reserve(budget.ledger, budget.amountUsd, budget.limitUsd, budget.periodEndsAt),
          ]).then((r) => r[0]),
    ]);

    const taken: Array<{ check: RateCheck; result: TakeResult }> = [];
    const refused: Array<{ check: RateCheck; result: TakeResult }> = [];
    let failure: unknown;
    let failed = false;
    rates.forEach((check, i) => {
      const outcome = rateOutcomes[i];
      if (outcome === undefined) return;
      if (outcome.status === 'rejected') {
        failed = true;
        failure ??= outcome.reason;
      } else if (outcome.value.ok) taken.push({ check, result: outcome.value });
      else refused.push({ check, result: outcome.value });
    });
    let ledger: LedgerResult | undefined;
    if (budgetOutcome !== undefined) {
      if (budgetOutcome.status === 'rejected') {
        failed = true;
        failure ??= budgetOutcome.reason;
      } else ledger = budgetOutcome.value;
    }
    const budgetHeld = budget !== undefined && ledger?.ok === true;

    if (!failed && refused.length === 0 && (budget === undefined || budgetHeld)) {
      const views = taken.map(({ check, result }) => view(check, result));
      return this.admission(taken, budgetHeld ? budget : undefined, tokens, headersFor(views));
    }

    // Refused (or the store failed): give back everything that was taken, then answer.
    const restored = await Promise.all(
      taken.map(({ check }) => this.store.refund(check.bucket, check.cost, check.rule)),
    );
    if (budgetHeld && budget !== undefined) {
      await this.store.settle(budget.ledger, budget.amountUsd, 0, budget.periodEndsAt);
    }
    if (failed) throw failure;

    const views = [
      ...taken.map(({ check }, i) => view(check, restored[i] ?? { remaining: 0, resetMs: 0 })),
      ...refused.map(({ check, result }) => view(check, result)),
    ];
    const headers = headersFor(views);
    const rejection = this.pickRejection(refused, budget, ledger);
    if (rejection.retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(rejection.retryAfterMs / 1000)));
      headers['retry-after-ms'] = String(rejection.retryAfterMs);
    }
    return { ok: false, error: rejection.error, headers, retryAfterMs: rejection.retryAfterMs };
  }

  private rateChecks(input: AdmitInput, tokens: number): RateCheck[] {
    const checks: RateCheck[] = [];
    const add = (scope: LimitScope, subject: string, rpm: number | undefined, tpm: number | undefined) => {
      if (rpm !== undefined) {
        checks.push({
          kind: 'requests',
          scope,
          subject,
          bucket: `${this.prefix}:rl:${scope}:${subject}:rpm`,
          rule: { capacity: rpm, perMs: MINUTE_MS },
          cost: 1,
        });
      }
      if (tpm !== undefined) {
        checks.push({
          kind: 'tokens',
          scope,
          subject,
          bucket: `${this.prefix}:rl:${scope}:${subject}:tpm`,
          rule: { capacity: tpm, perMs: MINUTE_MS },
          cost: tokens,
        });
      }
    };
    if (input.key !== undefined) add('key', input.key.name, input.key.rpm, input.key.tpm);
    add('route', input.route.name, input.route.rpm, input.route.tpm);
    return checks;
  }

  private budgetCheck(input: AdmitInput): BudgetCheck | undefined {
    const key = input.key;
    if (key?.budgetUsd === undefined) return undefined;
    const period = key.budgetPeriod ?? 'month';
    const { label, endsAt } = budgetPeriodAt(this.clock.now(), period);
    return {
      scope: 'key',
      subject: key.name,
      ledger: `${this.prefix}:budget:key:${key.name}:${label}`,
      limitUsd: key.budgetUsd,
      amountUsd: Math.max(0, input.worstCaseUsd),
      periodEndsAt: endsAt,
      period,
    };
  }

  private admission(
    taken: Array<{ check: RateCheck }>,
    budget: BudgetCheck | undefined,
    tokens: number,
    headers: Record<string, string>,
  ): Admission {
    let done = false;
    const store = this.store;
    return {
      ok: true,
      headers,
      async settle(actualTokens: number, actualUsd: number): Promise<void> {
        if (done) return;
        done = true;
        const actual = Math.max(0, Math.ceil(actualTokens));
        const work: Array<Promise<unknown>> = [];
        for (const { check } of taken) {
          if (check.kind !== 'tokens') continue;
          const delta = actual - tokens;
          if (delta < 0) work.push(store.refund(check.bucket, -delta, check.rule));
          else if (delta > 0) work.push(store.charge(check.bucket, delta, check.rule));
        }
        if (budget !== undefined) {
          work.push(
            store.settle(budget.ledger, budget.amountUsd, Math.max(0, actualUsd), budget.periodEndsAt),
          );
        }
        await Promise.all(work);
      },
      async release(): Promise<void> {
        if (done) return;
        done = true;
        const work: Array<Promise<unknown>> = taken.map(({ check }) =>
          store.refund(check.bucket, check.cost, check.rule),
        );
        if (budget !== undefined) {
          work.push(store.settle(budget.ledger, budget.amountUsd, 0, budget.periodEndsAt));
        }
        await Promise.all(work);
      },
    };
  }

  /** The refusal to report: one waiting cannot fix first, else the one that takes longest to clear. */
  private pickRejection(
    refused: Array<{ check: RateCheck; result: TakeResult }>,
    budget: BudgetCheck | undefined,
    ledger: LedgerResult | undefined,
  ): { error: EdgeError; retryAfterMs: number | undefined } {
    const candidates: Array<{ error: EdgeError; retryAfterMs: number | undefined; fits: boolean }> = [];
    for (const { check, result } of refused) {
      const fits = Number.isFinite(result.retryAfterMs);
      const detail: LimitDetail = {
        kind: check.kind,
        scope: check.scope,
        subject: check.subject,
        limit: check.rule.capacity,
        requested: check.cost,
        fits,
      };
      const retryAfterMs = fits ? result.retryAfterMs : undefined;
      candidates.push({
        error: rateLimitedError(rateMessage(check, retryAfterMs), detail, retryAfterMs),
        retryAfterMs,
        fits,
      });
    }
    if (budget !== undefined && ledger !== undefined && !ledger.ok) {
      const fits = budget.amountUsd <= budget.limitUsd;
      const retryAfterMs = fits ? Math.max(0, budget.periodEndsAt - this.clock.now()) : undefined;
      const detail: LimitDetail = {
        kind: 'budget',
        scope: budget.scope,
        subject: budget.subject,
        limit: budget.limitUsd,
        requested: budget.amountUsd,
        fits,
      };
      candidates.push({
        error: budgetExceededError(budgetMessage(budget, ledger, retryAfterMs), detail, retryAfterMs),
        retryAfterMs,
        fits,
      });
    }
    candidates.sort(
      (a, b) => Number(a.fits) - Number(b.fits) || (b.retryAfterMs ?? 0) - (a.retryAfterMs ?? 0),
    );
    const chosen = candidates[0];
    if (chosen === undefined) throw new Error('Limiter: refusal without a refused limit');
    return { error: chosen.error, retryAfterMs: chosen.retryAfterMs };
  }
}

function view(check: RateCheck, state: BucketState): RateView {
  return { kind: check.kind, limit: check.rule.capacity, remaining: state.remaining, resetMs: state.resetMs };
}

/** OpenAI's headers for the tightest limit of each kind: least remaining, then latest reset. */
function headersFor(views: RateView[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    let tightest: RateView | undefined;
    for (const v of views) {
      if (v.kind !== kind) continue;
      if (
        tightest === undefined ||
        v.remaining < tightest.remaining ||
        (v.remaining === tightest.remaining && v.resetMs > tightest.resetMs)
      ) {
        tightest = v;
      }
    }
    if (tightest === undefined) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, Math.floor(tightest.remaining)));
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(tightest.resetMs);
  }
  return headers;
}

const KIND_UNIT: Record<LimitKind, string> = { requests: 'requests', tokens: 'tokens', budget: 'USD' };

function rateMessage(check: RateCheck, retryAfterMs: number | undefined): string {
  const who = `${check.scope} '${check.subject}'`;
  const unit = KIND_UNIT[check.kind];
  if (retryAfterMs === undefined) {
    return (
      `Request too large for ${who}: it needs about ${check.cost} ${unit}, more than the limit of ` +
      `${check.rule.capacity} ${unit} per minute. Lower max_tokens or shorten the prompt.`
    );
  }
  return (
    `Rate limit reached for ${who}: ${check.rule.capacity} ${unit} per minute` +
    (check.kind === 'tokens' ? ` (this request needs about ${check.cost})` : '') +
    `. Retry in ${formatResetDuration(retryAfterMs)}.`
  );
}

function budgetMessage(budget: BudgetCheck, ledger: LedgerResult, retryAfterMs: number | undefined): string {
  const who = `${budget.scope} '${budget.subject}'`;
  const per = `${usd(budget.limitUsd)} per ${budget.period}`;
  if (retryAfterMs === undefined) {
    return (
      `Budget too small for this request for ${who}: it may cost up to ${usd(budget.amountUsd)}, more than ` +
      `the whole budget of ${per}. Lower max_tokens.`
    );
  }
  return (
    `Budget exceeded for ${who}: ${per}; spent ${usd(ledger.spent)}, ${usd(ledger.reserved)} reserved by ` +
    `requests in flight, and this request may cost up to ${usd(budget.amountUsd)}. ` +
    `The budget resets in ${formatResetDuration(retryAfterMs)}.`
  );
}

function usd(value: number): string {
  return `$${value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 2)}`;
}

/**
 * Formats like OpenAI's x-ratelimit-reset-* (Go's time.Duration): "0s", "120ms", "1s", "17.28s",
 * "6m0s", "1h2m3s". Milliseconds are shown only below a second; above, seconds keep up to 3 decimals.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/** The UTC calendar period containing `now`: its label (for ledger names) and when it ends. */
export function budgetPeriodAt(now: number, period: BudgetPeriod): { label: string; endsAt: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const mm = String(m + 1).padStart(2, '0');
  if (period === 'day') {
    const day = d.getUTCDate();
    return {
      label: `${y}-${mm}-${String(day).padStart(2, '0')}`,
      endsAt: Date.UTC(y, m, day + 1),
    };
  }
  return { label: `${y}-${mm}`, endsAt: Date.UTC(y, m + 1, 1) };
}

/** max_tokens used when a request sets neither max_tokens nor max_completion_tokens. */
export const DEFAULT_MAX_TOKENS = 1024;
/** Tokens counted per image part (OpenAI's high-detail 1024×1024 cost; an estimate). */
export const IMAGE_PART_TOKENS = 765;

/** The most completion tokens the request may produce: max_tokens (or the default) times `n`. */
export function maxOutputTokens(request: ChatRequest, defaultMaxTokens = DEFAULT_MAX_TOKENS): number {
  const perChoice = request.max_tokens ?? request.max_completion_tokens ?? defaultMaxTokens;
  const n = typeof request.n === 'number' && request.n > 1 ? Math.floor(request.n) : 1;
  return Math.max(0, perChoice) * n;
}

/** A cheap prompt estimate: characters / 4, plus 4 tokens per message and a flat cost per image. */
export function estimatePromptTokens(request: ChatRequest): number {
  let chars = 0;
  let images = 0;
  for (const message of request.messages) {
    const content = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (typeof part.text === 'string') chars += part.text.length;
        else if (part.type === 'image_url' || part.type === 'input_image') images++;
      }
    }
    if (typeof message.name === 'string') chars += message.name.length;
    for (const call of message.tool_calls ?? []) {
      chars += call.function.name.length + call.function.arguments.length;
    }
  }
  if (request.tools !== undefined) chars += JSON.stringify(request.tools).length;
  if (request.response_format !== undefined) chars += JSON.stringify(request.response_format).length;
  return Math.ceil(chars / 4) + 4 * request.messages.length + images * IMAGE_PART_TOKENS;
}

/** Tokens to reserve for a request: the prompt estimate plus the most the completion may use. */
export function estimateRequestTokens(request: ChatRequest, defaultMaxTokens = DEFAULT_MAX_TOKENS): number {
  return estimatePromptTokens(request) + maxOutputTokens(request, defaultMaxTokens);
}

/**
 * The most a request may cost: `estimatedTokens - maxTokens` input tokens (none cached) plus
 * `maxTokens` output tokens. 0 when the price is unknown (so an unpriced model is not budget-limited).
 */
export function worstCaseCost(estimatedTokens: number, maxTokens: number, price: Price | undefined): number {
  const output = Math.max(0, maxTokens);
  const input = Math.max(0, estimatedTokens - output);
  return costUsd({ input, output, cached: 0 }, price);
}
