/**
 * Clients for the game days: an open-loop load generator (requests leave on schedule whether or not
 * earlier ones were answered, each with its own client-side timeout) and slow-loris connections.
 * Every loop is bounded by a count and by time.
 */
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import type { Load } from '../scenarios.ts';

export type Outcome = 'ok' | 'error' | 'unanswered';

/** One request as the client saw it. Times are ms since the scenario started. */
export interface Sample {
  /** When it was scheduled to leave (latency counts from here: no coordinated omission). */
  sentAt: number;
  doneAt: number;
  latencyMs: number;
  stream: boolean;
  outcome: Outcome;
  status?: number;
  /** The Keel error code of a clear error. */
  code?: string;
  /** x-keel-target / x-keel-decision of an answer. */
  target?: string;
  decision?: string;
  /** Why an answer counts as unanswered: timeout, connection, truncated, malformed, unclear-error. */
  reason?: string;
}

/** Requests due by `t` ms under a load's rate phases. */
export function dueBy(load: Load, t: number): number {
  const phases = [{ fromMs: 0, rps: load.rps }, ...(load.phases ?? [])].sort((a, b) => a.fromMs - b.fromMs);
  const end = Math.min(t, load.durationMs);
  let due = 0;
  for (let i = 0; i < phases.length; i++) {
    const phase = phases[i]!;
    const until = Math.min(end, phases[i + 1]?.fromMs ?? Number.POSITIVE_INFINITY);
    if (until > phase.fromMs) due += ((until - phase.fromMs) / 1000) * phase.rps;
  }
  return Math.floor(due);
}

interface Parsed {
  done: boolean;
  chunks: number;
  errorCode?: string;
  malformed: boolean;
}

/** Read an SSE body: did it end with [DONE], or with an error event? */
function parseSse(text: string): Parsed {
  const parsed: Parsed = { done: false, chunks: 0, malformed: false };
  for (const event of text.split(/\r?\n\r?\n/)) {
    for (const line of event.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        parsed.done = true;
        continue;
      }
      try {
        const json = JSON.parse(data) as { error?: { code?: unknown }; choices?: unknown };
        if (json.error !== undefined) parsed.errorCode = String(json.error.code ?? 'unknown');
        else if (Array.isArray(json.choices)) parsed.chunks++;
      } catch {
        parsed.malformed = true;
      }
    }
  }
  return parsed;
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Send one chat request and classify what came back. Never throws. */
export async function oneRequest(
  origin: string,
  dispatcher: Agent,
  options: { route: string; stream: boolean; n: number; timeoutMs: number },
): Promise<Omit<Sample, 'sentAt' | 'doneAt' | 'latencyMs'>> {
  const { stream } = options;
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const res = await request(`${origin}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: options.route,
        messages: [{ role: 'user', content: `game day request ${options.n}` }],
        ...(stream ? { stream: true } : {}),
      }),
    });
    const text = await res.body.text();
    const status = res.statusCode;
    const seen = {
      stream,
      status,
      ...(header(res.headers, 'x-keel-target') ? { target: header(res.headers, 'x-keel-target')! } : {}),
      ...(header(res.headers, 'x-keel-decision')
        ? { decision: header(res.headers, 'x-keel-decision')! }
        : {}),
    };
    if (status >= 400) {
      try {
        const body = JSON.parse(text) as { error?: { code?: unknown } };
        if (typeof body.error?.code === 'string') return { ...seen, outcome: 'error', code: body.error.code };
      } catch {
        // fall through: an error nobody can read
      }
      return { ...seen, outcome: 'unanswered', reason: 'unclear-error' };
    }
    if (status !== 200) return { ...seen, outcome: 'unanswered', reason: `status-${status}` };
    if (stream) {
      const sse = parseSse(text);
      // An error event is a clear error even after a 200: the client knows the answer is incomplete.
      if (sse.errorCode !== undefined) return { ...seen, outcome: 'error', code: sse.errorCode };
      if (sse.done && sse.chunks > 0 && !sse.malformed) return { ...seen, outcome: 'ok' };
      return { ...seen, outcome: 'unanswered', reason: sse.malformed ? 'malformed' : 'truncated' };
    }
    try {
      const body = JSON.parse(text) as { choices?: Array<{ message?: unknown }> };
      if (body.choices?.[0]?.message !== undefined) return { ...seen, outcome: 'ok' };
    } catch {
      // malformed below
    }
    return { ...seen, outcome: 'unanswered', reason: 'malformed' };
  } catch (err) {
    if (signal.aborted) return { stream, outcome: 'unanswered', reason: 'timeout' };
    const code = (err as { code?: string }).code ?? (err as Error).name;
    return { stream, outcome: 'unanswered', reason: `connection ${code}` };
  }
}

/**
 * Open-loop load: request i leaves when `dueBy(load, t)` passes i. A 5 ms ticker sends what is due;
 * the run stops sending at load.durationMs and then waits for every request (each bounded by
 * timeoutMs).
 */
export async function openLoop(options: {
  origin: string;
  route: string;
  load: Load;
  timeoutMs: number;
  t0: number;
}): Promise<Sample[]> {
  const { origin, route, load, timeoutMs, t0 } = options;
  const dispatcher = new Agent({ connections: 1024, pipelining: 1, keepAliveTimeout: 4000 });
  const total = dueBy(load, load.durationMs);
  const samples: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  const isStream = (i: number) => Math.floor((i + 1) * load.streamShare) > Math.floor(i * load.streamShare);

  const send = (i: number) => {
    const sentAt = scheduledAt(load, i);
    const stream = isStream(i);
    const p = oneRequest(origin, dispatcher, { route, stream, n: i, timeoutMs }).then((result) => {
      const doneAt = Date.now() - t0;
      samples.push({ ...result, sentAt, doneAt, latencyMs: doneAt - sentAt });
      inflight.delete(p);
    });
    inflight.add(p);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now() - t0;
      const due = Math.min(total, dueBy(load, now));
      while (sent < due) send(sent++);
      if (sent >= total || now >= load.durationMs + 1000) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 5);
    tick();
  });
  // Every request carries its own timeout, so this ends within timeoutMs.
  await Promise.all([...inflight]);
  await dispatcher.close();
  return samples.sort((a, b) => a.sentAt - b.sentAt);
}

/** When request i was due (the inverse of dueBy), ms since start. */
export function scheduledAt(load: Load, i: number): number {
  let lo = 0;
  let hi = load.durationMs;
  for (let k = 0; k < 40 && hi - lo > 0.5; k++) {
    const mid = (lo + hi) / 2;
    if (dueBy(load, mid) > i) hi = mid;
    else lo = mid;
  }
  return Math.round(hi);
}

export interface LorisResult {
  connections: number;
  /** Connections the server closed before the end (a header timeout, a limit). */
  closedByServer: number;
  /** Connections that never opened. */
  failedToOpen: number;
  bytesSent: number;
}

/**
 * Slow-loris clients: `connections` sockets that send a request's headers one byte every
 * `byteEveryMs` and never finish them, for `durationMs`; then they are destroyed.
 */
export async function slowLoris(options: {
  host: string;
  port: number;
  connections: number;
  byteEveryMs: number;
  durationMs: number;
}): Promise<LorisResult> {
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${options.host}\r\nContent-Type: application/json\r\n`;
  const pad = 'X-Slow-Loris: still-sending\r\n';
  const result: LorisResult = {
    connections: options.connections,
    closedByServer: 0,
    failedToOpen: 0,
    bytesSent: 0,
  };
  const sockets: Array<{ socket: Socket; sent: number; open: boolean }> = [];
  let ending = false;
  for (let i = 0; i < options.connections; i++) {
    const socket = connect({ host: options.host, port: options.port });
    const entry = { socket, sent: 0, open: false };
    socket.on('connect', () => {
      entry.open = true;
    });
    socket.on('error', () => {
      if (!entry.open) result.failedToOpen++;
    });
    socket.on('close', () => {
      if (entry.open && !ending) result.closedByServer++;
      entry.open = false;
    });
    socket.on('data', () => {}); // an early answer (408, 400) is read and dropped
    sockets.push(entry);
  }
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - started >= options.durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (const entry of sockets) {
        if (!entry.open) continue;
        const k = entry.sent;
        entry.socket.write(k < head.length ? head[k]! : pad[(k - head.length) % pad.length]!);
        entry.sent++;
        result.bytesSent++;
      }
    }, options.byteEveryMs);
  });
  ending = true;
  for (const entry of sockets) entry.socket.destroy();
  return result;
}
