/**
 * The gateway as `keel eval` talks to it over HTTP: JSON POSTs to `/v1/...` (marked as eval traffic
 * with `x-keel-user: keel-eval`, authorised with $KEEL_API_KEY when set), the model list used to check
 * targets before a run, a trace's cost, and the `judge` / `embed` functions the scorers call.
 */
import type { EmbedFn, JudgeFn } from '../evals/index.ts';
import { adminCall } from './control.ts';

/** Sent with every eval request, so eval traffic is findable in traces (`keel traces --user keel-eval`). */
export const EVAL_USER = 'keel-eval';

/** One gateway call never waits longer than this: the gateway's own deadlines should end it sooner. */
const CALL_TIMEOUT_MS = 120_000;

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A non-2xx answer, carrying the gateway's own message (`404: unknown route "x"`). */
export class GatewayCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status}: ${message}`);
    this.name = 'GatewayCallError';
  }
}

export class GatewayClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  /** POSTs JSON; resolves with any status (the caller decides), rejects when Keel cannot be reached. */
  async post(path: string, body: unknown): Promise<GatewayAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-keel-user': EVAL_USER };
    if (process.env.KEEL_API_KEY) headers.authorization = `Bearer ${process.env.KEEL_API_KEY}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer in ${CALL_TIMEOUT_MS / 1000} s` : '';
      throw new Error(why || `cannot reach Keel at ${this.url} (is it running? pass --url)`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new GatewayCallError(res.status, 'the gateway answered with something other than JSON');
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** POSTs JSON and insists on a 2xx answer. */
  async postOk(path: string, body: unknown): Promise<GatewayAnswer> {
    const answer = await this.post(path, body);
    if (answer.status < 200 || answer.status > 299)
      throw new GatewayCallError(answer.status, errorText(answer));
    return answer;
  }

  /** The ids `GET /v1/models` lists: routes by name, features as `feature:NAME`. */
  async models(): Promise<string[]> {
    const headers: Record<string, string> = {};
    if (process.env.KEEL_API_KEY) headers.authorization = `Bearer ${process.env.KEEL_API_KEY}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}/v1/models`, { headers, signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new Error(`cannot reach Keel at ${this.url} (is it running? pass --url)`);
    }
    const body = (await res.json().catch(() => ({}))) as { data?: Array<{ id?: unknown }> };
    if (!res.ok) throw new GatewayCallError(res.status, errorText({ status: res.status, body }));
    return (body.data ?? []).map((m) => String(m.id));
  }

  /**
   * A stored trace's cost. The gateway stores a trace just after it answers, so this polls briefly;
   * undefined when the trace never shows up (tracing off, or the store is slow).
   */
  async traceCost(
    id: string,
    options: { attempts?: number; delayMs?: number } = {},
  ): Promise<number | undefined> {
    const attempts = options.attempts ?? 20;
    for (let i = 0; i < attempts; i++) {
      try {
        const trace = await adminCall<{ costUsd?: unknown }>(
          { url: this.url },
          'GET',
          `/admin/traces/${encodeURIComponent(id)}`,
        );
        if (typeof trace.costUsd === 'number') return trace.costUsd;
      } catch (err) {
        if (!/^404:/.test((err as Error).message)) return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 100));
    }
    return undefined;
  }

  /** The judge: a chat completion on `route` at temperature 0, resolving with the reply text. */
  judge(route: string): JudgeFn {
    return async (messages) => {
      const { body } = await this.postOk('/v1/chat/completions', { model: route, messages, temperature: 0 });
      return completionText(body) ?? '';
    };
  }

  /** Embeddings on `route`, one vector per text, in input order. */
  embed(route: string): EmbedFn {
    return async (texts) => {
      const { body } = await this.postOk('/v1/embeddings', { model: route, input: texts });
      const data = (body as { data?: Array<{ index?: number; embedding?: unknown }> }).data;
      if (!Array.isArray(data)) throw new Error(`embeddings on route "${route}": the answer has no data`);
      return [...data]
        .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
        .map((d) => {
          if (!Array.isArray(d.embedding)) throw new Error(`embeddings on route "${route}": not a vector`);
          return d.embedding as number[];
        });
    };
  }
}

/** The text of a chat completion's first choice (string content or text parts), if any. */
export function completionText(body: unknown): string | undefined {
  const message = (body as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message;
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return undefined;
}

function errorText(answer: { status: number; body: unknown }): string {
  const error = (answer.body as { error?: { message?: unknown } }).error;
  return typeof error?.message === 'string' ? error.message : 'request failed';
}
