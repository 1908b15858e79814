/**
 * Steady mixed traffic at a bounded rate: non-streaming and streaming chat (some clients hang up
 * mid-stream or mid-request), the hedged and the flaky route, embeddings, bad requests, and the admin,
 * health and metrics endpoints. Every request has a client timeout; only counters are kept, so the
 * load generator's own memory stays flat however long it runs.
 */
import { Agent, fetch } from 'undici';

export interface TrafficOptions {
  /** Requests started per second. */
  rps: number;
  /** At most this many in flight; a request due while full is skipped and counted. */
  maxInFlight: number;
  /** A request the gateway has not finished by then is a hang. */
  timeoutMs: number;
}

export interface TrafficSnapshot {
  started: number;
  finished: number;
  skipped: number;
  inFlight: number;
  /** Final HTTP status → count (streams count their status line). */
  statuses: Record<string, number>;
  streamsDone: number;
  /** Streams that ended with an OpenAI error event after the first byte (a cut upstream). */
  streamsErrored: number;
  /** Clients that hung up on purpose (mid-stream or mid-request). */
  disconnects: number;
  /** Requests with no answer within timeoutMs. */
  timeouts: number;
  /** Connection failures we did not cause. */
  transportErrors: number;
  /** Answers that break the contract: 500, a 5xx that is not a failover outcome, a malformed body. */
  unexpected: number;
  /** The first few unexpected answers, for the report. */
  examples: string[];
}

type Kind =
  | 'chat'
  | 'chat-stream'
  | 'chat-stream-hangup'
  | 'chat-hangup'
  | 'hedged'
  | 'flaky'
  | 'flaky-stream'
  | 'embeddings'
  | 'bad'
  | 'admin';

/** The mix, in parts per hundred. */
const MIX: Array<[Kind, number]> = [
  ['chat', 34],
  ['chat-stream', 22],
  ['chat-stream-hangup', 8],
  ['chat-hangup', 4],
  ['hedged', 8],
  ['flaky', 7],
  ['flaky-stream', 5],
  ['embeddings', 5],
  ['bad', 4],
  ['admin', 3],
];

/** Statuses the gateway may legitimately answer given the injected faults. */
const EXPECTED = new Set([200, 400, 404, 429, 502, 503, 504]);

const WORDS =
  'the quick brown fox jumps over a lazy dog while keel keeps answering every single request'.split(' ');

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

export class Traffic {
  private readonly agent: Agent;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private n = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly snap: TrafficSnapshot = {
    started: 0,
    finished: 0,
    skipped: 0,
    inFlight: 0,
    statuses: {},
    streamsDone: 0,
    streamsErrored: 0,
    disconnects: 0,
    timeouts: 0,
    transportErrors: 0,
    unexpected: 0,
    examples: [],
  };

  constructor(
    private readonly base: string,
    private readonly options: TrafficOptions,
  ) {
    this.agent = new Agent({ connections: options.maxInFlight, keepAliveTimeout: 10_000 });
  }

  snapshot(): TrafficSnapshot {
    return {
      ...this.snap,
      inFlight: this.pending.size,
      statuses: { ...this.snap.statuses },
      examples: [...this.snap.examples],
    };
  }

  start(): void {
    this.startedAt = performance.now();
    // Catch up in small ticks so the rate holds whatever the timer jitter.
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.options.rps);
      while (this.snap.started + this.snap.skipped < due) {
        if (this.pending.size >= this.options.maxInFlight) {
          this.snap.skipped++;
          continue;
        }
        this.snap.started++;
        const p: Promise<void> = this.one(this.n++).finally(() => {
          this.pending.delete(p);
          this.snap.finished++;
        });
        this.pending.add(p);
      }
    }, 20);
  }

  /** Stop starting requests and wait (bounded) for those in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const deadline = new Promise((r) => setTimeout(r, this.options.timeoutMs + 1_000).unref());
    await Promise.race([Promise.allSettled([...this.pending]), deadline]);
    await this.agent.close().catch(() => undefined);
  }

  private note(status: number): void {
    this.snap.statuses[status] = (this.snap.statuses[status] ?? 0) + 1;
  }

  private unexpected(what: string): void {
    this.snap.unexpected++;
    if (this.snap.examples.length < 10) this.snap.examples.push(what.slice(0, 300));
  }

  private kind(n: number): Kind {
    // A fixed, evenly spread sequence (no randomness): slot n of each hundred.
    let slot = (n * 37) % 100;
    for (const [kind, weight] of MIX) {
      if (slot < weight) return kind;
      slot -= weight;
    }
    return 'chat';
  }

  private chatBody(n: number, route: string, stream: boolean): string {
    const words = Array.from({ length: 4 + (n % 24) }, (_, i) => pick(WORDS, n + i * 7));
    // Some PII for the redactor to find, and caller tags, as real traffic has.
    if (n % 5 === 0) words.push(`user${n % 97}@example.com`);
    if (n % 7 === 0) words.push('+1 415 555 0100');
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: words.join(' ') },
    ];
    return JSON.stringify({
      model: route,
      messages,
      stream,
      ...(n % 3 === 0 ? { temperature: 0.2, max_tokens: 64 } : {}),
      ...(stream && n % 2 === 0 ? { stream_options: { include_usage: true } } : {}),
      user: `soak-user-${n % 50}`,
    });
  }

  private async one(n: number): Promise<void> {
    const kind = this.kind(n);
    const hangup = new AbortController();
    const signal = AbortSignal.any([hangup.signal, AbortSignal.timeout(this.options.timeoutMs)]);
    const headers = {
      'content-type': 'application/json',
      'x-keel-feature': `soak-${kind}`,
      'x-keel-session': `s${n % 200}`,
    };
    let path = '/v1/chat/completions';
    let body: string | undefined;
    let method = 'POST';
    switch (kind) {
      case 'chat':
      case 'chat-hangup':
        body = this.chatBody(n, 'chat', false);
        break;
      case 'chat-stream':
      case 'chat-stream-hangup':
        body = this.chatBody(n, 'chat', true);
        break;
      case 'hedged':
        body = this.chatBody(n, 'hedged', n % 2 === 0);
        break;
      case 'flaky':
        body = this.chatBody(n, 'flaky', false);
        break;
      case 'flaky-stream':
        body = this.chatBody(n, 'flaky', true);
        break;
      case 'embeddings':
        path = '/v1/embeddings';
        body = JSON.stringify({ model: 'chat', input: [`soak ${n}`, pick(WORDS, n)], dimensions: 32 });
        break;
      case 'bad':
        body = pick(
          [
            '{"model":"chat",',
            '{"model":"no-such-route","messages":[{"role":"user","content":"x"}]}',
            '{"model":"chat","messages":[]}',
            '[]',
          ],
          n,
        );
        break;
      default:
        method = 'GET';
        path = pick(
          [
            '/admin/stats?window=5m',
            '/admin/traces?limit=5',
            '/metrics',
            '/readyz',
            '/v1/models',
            '/healthz',
          ],
          n,
        );
    }
    if (kind === 'chat-hangup') setTimeout(() => hangup.abort(), 5 + (n % 40)).unref();
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers: method === 'GET' ? {} : headers,
        ...(body === undefined ? {} : { body }),
        signal,
        dispatcher: this.agent,
      });
      this.note(res.status);
      const type = res.headers.get('content-type') ?? '';
      if (type.startsWith('text/event-stream')) {
        await this.readStream(res.body, kind === 'chat-stream-hangup' ? hangup : undefined);
        return;
      }
      const text = await res.text();
      if (path === '/readyz' && res.status === 503 && text.includes('"status":"unavailable"')) {
        // Not ready while a route's only target has its breaker open: the documented answer.
      } else if (!EXPECTED.has(res.status)) {
        this.unexpected(`${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
      } else if (res.status >= 400 && !/"error":\{"message":"[^"]/.test(text)) {
        this.unexpected(`${method} ${path} → ${res.status} not OpenAI-shaped: ${text.slice(0, 200)}`);
      }
    } catch (err) {
      if (hangup.signal.aborted) this.snap.disconnects++;
      else if ((err as Error).name === 'TimeoutError' || signal.reason?.name === 'TimeoutError') {
        this.snap.timeouts++;
        this.unexpected(`${method} ${path}: no answer within ${this.options.timeoutMs} ms`);
      } else {
        this.snap.transportErrors++;
        this.unexpected(`${method} ${path}: ${String((err as Error).cause ?? err)}`);
      }
    }
  }

  /** Read an SSE answer to its end ([DONE] or an error event); `hangup` aborts after the first chunk. */
  private async readStream(
    body: AsyncIterable<Uint8Array> | null,
    hangup: AbortController | undefined,
  ): Promise<void> {
    if (!body) return;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of body) {
      text += decoder.decode(chunk, { stream: true });
      if (hangup && text.includes('\n\n')) {
        hangup.abort();
        this.snap.disconnects++;
        return;
      }
    }
    const tail = text.slice(-400);
    if (tail.endsWith('data: [DONE]\n\n')) this.snap.streamsDone++;
    else if (/data: \{"error":\{"message":"[^"]/.test(tail)) this.snap.streamsErrored++;
    else this.unexpected(`stream ended without [DONE] or an error event: …${tail.slice(-200)}`);
  }
}
