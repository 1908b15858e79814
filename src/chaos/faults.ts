import { z } from 'zod';

/**
 * What a chaos fault does to every call on its target while it is active. Fields combine:
 *
 * - `latencyMs` is added before every call;
 * - `hangRate` is the share of calls that hang until their signal aborts (a timeout or the deadline);
 * - the failure kinds — `status`, `rateLimit`, `garbage`, `cutStreamAfter`, `stallMs` — apply to the
 *   share `errorRate` of calls (default: every call). `errorRate` with no failure kind means status
 *   503; next to `cutStreamAfter`/`stallMs` it is only their share. When several are set, a call
 *   gets the first of rateLimit, garbage, status (before the call); streams then stall for `stallMs`
 *   after their first chunk and break off after `cutStreamAfter` chunks (fewer chunks: no cut).
 *   Non-streaming calls ignore `cutStreamAfter` and `stallMs`.
 */
export interface Fault {
  /** Share of calls the failure kinds apply to, 0–1 (default 1). */
  errorRate?: number | undefined;
  /** Upstream status to fail with (default 503), classified like a real one (`statusError`). */
  status?: number | undefined;
  /** Extra latency before every call. */
  latencyMs?: number | undefined;
  /** Share of calls that hang until aborted, 0–1. */
  hangRate?: number | undefined;
  /** Answer 429 with Retry-After. */
  rateLimit?: boolean | undefined;
  /** The Retry-After of `rateLimit` (or of a `status: 429`), in ms (default 1000 for rateLimit). */
  retryAfterMs?: number | undefined;
  /** Answer an unparseable body (KEEL_UPSTREAM_MALFORMED). */
  garbage?: boolean | undefined;
  /** Streams break off after this many chunks (KEEL_STREAM_CUT). */
  cutStreamAfter?: number | undefined;
  /** Streams go silent for this long after their first chunk. */
  stallMs?: number | undefined;
  /** The fault ends at this time (epoch ms); without it, it lasts until cleared. */
  until?: number | undefined;
}

const rate = z.number().min(0).max(1);
const HOUR = 3_600_000;

/** The fault fields, as an object shape (the admin API extends it with `target` and `durationMs`). */
export const faultShape = {
  errorRate: rate.optional(),
  status: z.number().int().min(400).max(599).optional(),
  latencyMs: z.number().int().min(0).max(HOUR).optional(),
  hangRate: rate.optional(),
  rateLimit: z.boolean().optional(),
  retryAfterMs: z.number().int().min(0).max(HOUR).optional(),
  garbage: z.boolean().optional(),
  cutStreamAfter: z.number().int().min(0).max(1_000_000).optional(),
  stallMs: z.number().int().positive().max(HOUR).optional(),
  until: z.number().int().positive().optional(),
};

/** Whether a fault does anything at all (an empty fault is refused: it would only confuse a reader). */
export function hasEffect(fault: Fault): boolean {
  return (
    (fault.errorRate ?? 0) > 0 ||
    fault.status !== undefined ||
    (fault.latencyMs ?? 0) > 0 ||
    (fault.hangRate ?? 0) > 0 ||
    fault.rateLimit === true ||
    fault.garbage === true ||
    fault.cutStreamAfter !== undefined ||
    fault.stallMs !== undefined
  );
}

export const EMPTY_FAULT =
  'the fault does nothing: set errorRate, status, latencyMs, hangRate, rateLimit, garbage, cutStreamAfter or stallMs';

/** Does the fault fail calls (as opposed to only slowing or hanging them)? */
export function failureKind(fault: Fault): 'rate-limit' | 'garbage' | 'status' | undefined {
  if (fault.rateLimit === true) return 'rate-limit';
  if (fault.garbage === true) return 'garbage';
  if (fault.status !== undefined) return 'status';
  // errorRate alone means 503; next to a stream fault it is that fault's share.
  const streamFault = fault.cutStreamAfter !== undefined || fault.stallMs !== undefined;
  if ((fault.errorRate ?? 0) > 0 && !streamFault) return 'status';
  return undefined;
}

const p = (rate: number | undefined) => (rate === undefined || rate >= 1 ? '' : ` p=${rate}`);

/** One line a person reads in a trace or a log: "error 503 p=0.3, latency +2000ms". */
export function describeFault(fault: Fault): string {
  const parts: string[] = [];
  if ((fault.latencyMs ?? 0) > 0) parts.push(`latency +${fault.latencyMs}ms`);
  if ((fault.hangRate ?? 0) > 0) parts.push(`hang${p(fault.hangRate)}`);
  const kind = failureKind(fault);
  if (kind === 'rate-limit')
    parts.push(`429 retry-after ${fault.retryAfterMs ?? 1000}ms${p(fault.errorRate)}`);
  if (kind === 'garbage') parts.push(`garbage${p(fault.errorRate)}`);
  if (kind === 'status') parts.push(`error ${fault.status ?? 503}${p(fault.errorRate)}`);
  if (fault.stallMs !== undefined) parts.push(`stall ${fault.stallMs}ms${p(fault.errorRate)}`);
  if (fault.cutStreamAfter !== undefined)
    parts.push(`cut stream after ${fault.cutStreamAfter}${p(fault.errorRate)}`);
  return parts.join(', ');
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR };

/** "250ms", "2s", "1.5s", "5m", "1h" or a bare number of milliseconds → milliseconds. */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT[m[2] ?? 'ms']!);
}
