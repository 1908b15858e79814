/**
 * The load generator: undici Pools (keep-alive, no pipelining) in the orchestrator process, which
 * runs no server. Every loop is bounded by a request count and by time.
 */
import { Pool } from 'undici';
import { summarize } from './stats.ts';

export const CHAT_PATH = '/v1/chat/completions';
/** The same small chat request for every target; `bench` is Keel's route name (the others ignore it). */
export const CHAT_BODY = JSON.stringify({
  model: 'bench',
  messages: [{ role: 'user', content: 'Say OK.' }],
  max_tokens: 16,
});
const HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export interface Target {
  name: string;
  origin: string;
}

function clientPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
}

/** One request; resolves to the status code (0 on a network error). The body is always read. */
async function once(pool: Pool): Promise<number> {
  try {
    const { statusCode, body } = await pool.request({
      method: 'POST',
      path: CHAT_PATH,
      headers: HEADERS,
      body: CHAT_BODY,
    });
    await body.text();
    return statusCode;
  } catch {
    return 0;
  }
}

/** One request whose answer must be a well-formed completion; throws with what was wrong. */
export async function probe(target: Target): Promise<Record<string, unknown>> {
  const pool = clientPool(target.origin, 1);
  try {
    const { statusCode, headers, body } = await pool.request({
      method: 'POST',
      path: CHAT_PATH,
      headers: HEADERS,
      body: CHAT_BODY,
    });
    const text = await body.text();
    if (statusCode !== 200) throw new Error(`${target.name}: status ${statusCode}: ${text.slice(0, 300)}`);
    const json = JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }> };
    if (json.choices?.[0]?.message?.content !== 'OK')
      throw new Error(`${target.name}: unexpected answer ${text.slice(0, 300)}`);
    return headers as Record<string, unknown>;
  } finally {
    await pool.close();
  }
}

export interface SaturatedResult {
  connections: number;
  warmupMs: number;
  durationMs: number;
  rps: number;
  ok: number;
  failed: number;
  /** Successful answers over the whole run, warm-up included (for CPU time per request). */
  completed: number;
  latencyMs: ReturnType<typeof summarize>;
}

/**
 * `connections` closed-loop clients for warmupMs + durationMs; counts answers completed inside the
 * measured window. Bounded by time and by maxRequests.
 */
export async function saturate(
  target: Target,
  options: { connections: number; warmupMs: number; durationMs: number; maxRequests: number },
): Promise<SaturatedResult> {
  const { connections, warmupMs, durationMs, maxRequests } = options;
  const pool = clientPool(target.origin, connections);
  const t0 = performance.now();
  const measureFrom = t0 + warmupMs;
  const end = measureFrom + durationMs;
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let completed = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (issued < maxRequests) {
      const start = performance.now();
      if (start >= end) return;
      issued++;
      const status = await once(pool);
      const done = performance.now();
      if (status === 200) completed++;
      if (done < measureFrom || done >= end) continue;
      if (status === 200) {
        ok++;
        latencies.push(done - start);
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return {
    connections,
    warmupMs,
    durationMs,
    rps: ok / (durationMs / 1000),
    ok,
    failed,
    completed,
    latencyMs: summarize(latencies),
  };
}

export interface CountedResult {
  requested: number;
  sent: number;
  ok: number;
  failed: number;
  elapsedMs: number;
  timedOut: boolean;
}

/** Send `total` requests at `connections` concurrency, as fast as they go; bounded by maxMs. */
export async function counted(
  target: Target,
  options: { total: number; connections: number; maxMs: number },
): Promise<CountedResult> {
  const { total, connections, maxMs } = options;
  const pool = clientPool(target.origin, connections);
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let timedOut = false;
  const worker = async () => {
    while (sent < total) {
      if (performance.now() >= deadline) {
        timedOut = true;
        return;
      }
      sent++;
      if ((await once(pool)) === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return { requested: total, sent, ok, failed, elapsedMs: performance.now() - t0, timedOut };
}

export interface SequentialResult {
  warmup: number;
  count: number;
  /** Per target: latency of one request at a time, in ms. */
  latencyMs: Record<string, ReturnType<typeof summarize>>;
  failed: Record<string, number>;
  timedOut: boolean;
}

/**
 * One request at a time over one keep-alive connection per target. Targets are interleaved request by
 * request (rotating which goes first), so every target sees the same machine conditions and drift
 * (other processes, CPU frequency) cancels out of the differences.
 */
export async function sequential(
  targets: Target[],
  options: { warmup: number; count: number; maxMs: number },
): Promise<SequentialResult> {
  const pools = targets.map((t) => clientPool(t.origin, 1));
  const samples = targets.map((): number[] => []);
  const failed = targets.map(() => 0);
  const deadline = performance.now() + options.maxMs;
  let timedOut = false;
  const n = targets.length;
  try {
    for (let i = 0; i < options.warmup + options.count; i++) {
      if (performance.now() >= deadline) {
        timedOut = true;
        break;
      }
      for (let j = 0; j < n; j++) {
        const k = (i + j) % n;
        const start = performance.now();
        const status = await once(pools[k]!);
        const ms = performance.now() - start;
        if (i < options.warmup) continue;
        if (status === 200) samples[k]!.push(ms);
        else failed[k]!++;
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return {
    warmup: options.warmup,
    count: options.count,
    latencyMs: Object.fromEntries(targets.map((t, k) => [t.name, summarize(samples[k]!)])),
    failed: Object.fromEntries(targets.map((t, k) => [t.name, failed[k]!])),
    timedOut,
  };
}
