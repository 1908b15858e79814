/**
 * Shared pieces of the fuzzers: the invariants every answer must meet, a small Anthropic-shaped
 * upstream, and the gateway config they run against. Not a test file (no `.test.ts`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const OPENAI_ERROR_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'service_unavailable',
]);

/** Marks of a leaked stack trace or source location in a message. */
const LEAKS: Array<[RegExp, string]> = [
  [/\n\s*at\s+\S/, 'a stack frame ("\\n at ...")'],
  [
    /\bat\s+(?:async\s+)?[\w$.<>[\]]*\s*\((?:file:|node:|\/)[^)]*:\d+:\d+\)/,
    'a stack frame "at fn (file:line:col)"',
  ],
  [/(?:file:\/\/|node:internal|node_modules\/|\/src\/[\w/-]+\.[jt]s\b|\/work\/)/, 'a file path'],
  [/\b\w+\.[jt]s:\d+:\d+/, 'a source position (x.ts:1:2)'],
];

export function stackLeak(message: string): string | undefined {
  for (const [re, what] of LEAKS) if (re.test(message)) return what;
  return undefined;
}

/** Why `body` is not OpenAI's error shape with a clean message, or undefined when it is. */
export function openAIErrorProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body is not a JSON object';
  const error = (body as { error?: unknown }).error;
  if (error === null || typeof error !== 'object' || Array.isArray(error)) {
    return `"error" is not an object: ${JSON.stringify(body).slice(0, 200)}`;
  }
  const { message, type, code, param } = error as Record<string, unknown>;
  if (typeof message !== 'string' || message.trim() === '') return 'error.message is not a non-empty string';
  if (typeof type !== 'string' || !OPENAI_ERROR_TYPES.has(type)) return `error.type ${JSON.stringify(type)}`;
  if (typeof code !== 'string' || !/^KEEL_[A-Z_]+$/.test(code)) return `error.code ${JSON.stringify(code)}`;
  if (!('param' in (error as object)) || (param !== null && typeof param !== 'string')) {
    return `error.param ${JSON.stringify(param)} is neither a string nor null`;
  }
  const leak = stackLeak(message);
  if (leak) return `error.message contains ${leak}: ${message.slice(0, 300)}`;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function chatCompletionProblem(body: unknown): string | undefined {
  if (!isObject(body)) return 'not an object';
  if (body.object !== 'chat.completion') return `object ${JSON.stringify(body.object)}`;
  if (typeof body.id !== 'string' || typeof body.model !== 'string') return 'id/model not strings';
  if (!Array.isArray(body.choices) || body.choices.length < 1) return 'no choices';
  const message = (body.choices[0] as { message?: unknown }).message;
  if (!isObject(message) || message.role !== 'assistant')
    return 'choices[0].message is not an assistant message';
  if (message.content !== null && typeof message.content !== 'string') return 'message.content';
  return undefined;
}

/** An SSE chat stream: chunks then `[DONE]`, or chunks then one OpenAI error event (mid-stream failure). */
export function chatStreamProblem(text: string): string | undefined {
  const events = text.split('\n\n').filter((e) => e.trim() !== '');
  if (events.length === 0) return 'empty stream';
  for (const [i, event] of events.entries()) {
    if (!event.startsWith('data: ')) return `event ${i} does not start with "data: "`;
    const data = event.slice(6);
    const last = i === events.length - 1;
    if (data === '[DONE]') {
      if (!last) return '[DONE] before the end';
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return `event ${i} is not JSON`;
    }
    if (isObject(parsed) && 'error' in parsed) {
      if (!last) return 'error event before the end';
      return openAIErrorProblem(parsed);
    }
    if (!isObject(parsed) || parsed.object !== 'chat.completion.chunk') return `event ${i} is not a chunk`;
  }
  return undefined;
}

export function embeddingsProblem(body: unknown): string | undefined {
  if (!isObject(body) || body.object !== 'list' || !Array.isArray(body.data)) return 'not an embeddings list';
  for (const item of body.data) {
    if (!isObject(item) || item.object !== 'embedding' || !Array.isArray(item.embedding)) return 'bad item';
  }
  return undefined;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  requestId: string | null;
  ms: number;
}

/** Per-request client timeout: a request the gateway has not answered by then is a hang. */
export const CLIENT_TIMEOUT_MS = 10_000;

export async function send(
  base: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers:
        init.body === undefined
          ? (init.headers ?? {})
          : { 'content-type': 'application/json', ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
  } catch (err) {
    const name = (err as Error).name;
    throw new Error(
      name === 'TimeoutError'
        ? `no answer within ${CLIENT_TIMEOUT_MS} ms (hang) for ${method} ${path.slice(0, 120)}`
        : `request failed (${String(err)}) for ${method} ${path.slice(0, 120)}`,
    );
  }
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    requestId: res.headers.get('x-request-id'),
    ms: performance.now() - started,
  };
}

export type Endpoint = 'chat' | 'embeddings' | 'models' | 'health' | 'ready' | 'admin' | 'metrics' | 'other';

/**
 * The invariant: a 2xx in the endpoint's shape, or a 4xx in OpenAI's error shape with a clean
 * message. Never a 5xx. Returns a description of the violation, or undefined.
 */
export function answerProblem(endpoint: Endpoint, a: Answer): string | undefined {
  const where = `${a.status} ${a.text.slice(0, 300)}`;
  if (a.status >= 500) return `server error: ${where}`;
  if (a.status < 200 || (a.status >= 300 && a.status < 400)) return `unexpected status: ${where}`;
  if (!a.requestId || !/^[A-Za-z0-9._:-]{1,128}$/.test(a.requestId)) return `bad x-request-id ${a.requestId}`;
  if (a.status >= 400) {
    if (!a.contentType.startsWith('application/json')) return `4xx is not JSON (${a.contentType}): ${where}`;
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      return `4xx body is not JSON: ${where}`;
    }
    const problem = openAIErrorProblem(body);
    return problem ? `${problem} (status ${a.status})` : undefined;
  }
  if (endpoint === 'chat' && a.contentType.startsWith('text/event-stream')) {
    const problem = chatStreamProblem(a.text);
    return problem ? `stream: ${problem}: ${a.text.slice(0, 300)}` : undefined;
  }
  if (endpoint === 'metrics')
    return a.contentType.startsWith('text/') ? undefined : `metrics ${a.contentType}`;
  if (!a.contentType.startsWith('application/json')) return `2xx is not JSON (${a.contentType}): ${where}`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `2xx body is not JSON: ${where}`;
  }
  switch (endpoint) {
    case 'chat': {
      const problem = chatCompletionProblem(body);
      return problem ? `chat completion: ${problem}: ${where}` : undefined;
    }
    case 'embeddings': {
      const problem = embeddingsProblem(body);
      return problem ? `embeddings: ${problem}: ${where}` : undefined;
    }
    case 'models':
      return isObject(body) && body.object === 'list' && Array.isArray(body.data)
        ? undefined
        : `models: ${where}`;
    case 'health':
      return isObject(body) && body.status === 'ok' ? undefined : `healthz: ${where}`;
    case 'ready':
      return isObject(body) && typeof body.status === 'string' ? undefined : `readyz: ${where}`;
    default:
      return isObject(body) ? undefined : `not a JSON object: ${where}`;
  }
}

/** Counts inputs and keeps the first few violations, so a run can report "N inputs, M failures". */
export class Tally {
  inputs = 0;
  readonly failures: string[] = [];
  readonly statuses = new Map<number, number>();

  record(a: Answer): void {
    this.statuses.set(a.status, (this.statuses.get(a.status) ?? 0) + 1);
  }

  fail(what: string): void {
    if (this.failures.length < 20) this.failures.push(what);
  }

  line(name: string): string {
    const statuses = [...this.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`);
    return `fuzz: ${name}: ${this.inputs} inputs, ${this.failures.length} failures (statuses ${statuses.join(' ')})`;
  }
}

/**
 * A minimal Anthropic Messages API on loopback: any POST /v1/messages gets a short valid answer
 * (JSON, or the SSE event sequence when `stream: true`). Whatever the request holds.
 */
export async function startAnthropicUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let stream = false;
      let model = 'claude-mock';
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
          stream?: unknown;
          model?: unknown;
        };
        stream = body.stream === true;
        if (typeof body.model === 'string') model = body.model;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}');
        return;
      }
      const usage = { input_tokens: 5, output_tokens: 2 };
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'msg_mock',
            type: 'message',
            role: 'assistant',
            model,
            content: [{ type: 'text', text: 'mock answer' }],
            stop_reason: 'end_turn',
            usage,
          }),
        );
        return;
      }
      const ev = (type: string, data: Record<string, unknown>) =>
        `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        ev('message_start', { message: { id: 'msg_mock', model, usage } }) +
          ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
          ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'mock answer' } }) +
          ev('content_block_stop', { index: 0 }) +
          ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }) +
          ev('message_stop', {}),
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Keel over three kinds of target: simulated (in-process), OpenAI-compatible and Anthropic upstreams. */
export function fuzzGatewayYaml(openaiUrl: string, anthropicUrl: string, bodyLimitBytes: number): string {
  return `
server: { bodyLimitBytes: ${bodyLimitBytes} }
breaker: { failureRate: 0.99, window: 1000, minCalls: 1000 }
providers:
  sim: { type: simulated }
  oai: { type: openai, baseUrl: "${openaiUrl}" }
  ant: { type: anthropic, baseUrl: "${anthropicUrl}", apiKey: "test" }
models:
  m: { provider: sim, model: m, simulate: { ttftMs: { p50: 0, p99: 0 }, tokensPerSecond: 1000000, outputTokens: 4 } }
  o: { provider: oai, model: o }
  a: { provider: ant, model: claude-mock }
routes:
  chat: { deadlineMs: 5000, targets: [{ model: m, timeoutMs: 4000, retry: { max: 0 } }] }
  oai: { deadlineMs: 5000, targets: [{ model: o, timeoutMs: 4000, retry: { max: 0 } }] }
  ant: { deadlineMs: 5000, targets: [{ model: a, timeoutMs: 4000, retry: { max: 0 } }] }
telemetry: { store: { type: memory } }
`;
}

/** `KEEL_FUZZ_STRICT=1` turns the known-bug reproductions into ordinary (failing) tests. */
export function knownBug(reason: string): { todo?: string } {
  return process.env.KEEL_FUZZ_STRICT === '1' ? {} : { todo: `KNOWN BUG: ${reason}` };
}

/** fast-check settings: KEEL_FUZZ_SCALE scales every property's runs, KEEL_FUZZ_SEED replays a run. */
export function fcParams(runs: number): {
  numRuns: number;
  seed?: number;
  endOnFailure: boolean;
  interruptAfterTimeLimit: number;
} {
  const scale = Number(process.env.KEEL_FUZZ_SCALE ?? '1');
  const seed = process.env.KEEL_FUZZ_SEED === undefined ? undefined : Number(process.env.KEEL_FUZZ_SEED);
  return {
    numRuns: Math.max(1, Math.round(runs * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    ...(seed === undefined ? {} : { seed }),
    endOnFailure: true,
    // A bound on each property's wall time (shrinking included): a hang cannot stall the suite.
    interruptAfterTimeLimit: Number(process.env.KEEL_FUZZ_TIME_LIMIT_MS ?? 90_000),
  };
}
