import { type Clock, systemClock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import { completionId } from '../core/ids.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  ToolCall,
  Usage,
} from '../core/types.ts';
import { statusError } from './http.ts';
import type { CallOptions, Provider } from './provider.ts';

export interface SimulatedBehaviour {
  ttftMs: { p50: number; p99: number };
  tokensPerSecond: number;
  reply?: string | undefined;
  outputTokens: number;
  faults: {
    errorRate: number;
    errorStatuses: number[];
    rateLimitRate: number;
    retryAfterMs: number;
    hangRate: number;
    malformedRate: number;
    cutStreamRate: number;
    cutAfterChunks: number;
  };
}

export const STEADY: SimulatedBehaviour = {
  ttftMs: { p50: 0, p99: 0 },
  tokensPerSecond: 1000,
  outputTokens: 8,
  faults: {
    errorRate: 0,
    errorStatuses: [500],
    rateLimitRate: 0,
    retryAfterMs: 1000,
    hangRate: 0,
    malformedRate: 0,
    cutStreamRate: 0,
    cutAfterChunks: 3,
  },
};

type Fault = 'error' | 'rate-limit' | 'hang' | 'malformed' | 'cut' | 'none';

export interface SimulatedOptions {
  /** Behaviour per upstream model name; `*` applies to any other name. */
  models: Record<string, SimulatedBehaviour>;
  clock?: Clock;
  random?: () => number;
}

const Z99 = 2.3263;

function textOf(message: ChatMessage | undefined): string {
  if (!message || message.content === null || message.content === undefined) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => part.text ?? '').join(' ');
}

function estimateTokens(messages: ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + Math.ceil(textOf(m).length / 4) + 4, 0);
}

/**
 * An in-process model: a latency distribution (log-normal time to first token, steady tokens per
 * second) and faults drawn per call. It stands in for real models in `npm start`, tests and chaos runs.
 */
export class SimulatedProvider implements Provider {
  readonly type = 'simulated';
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: SimulatedOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  private behaviour(model: string): SimulatedBehaviour {
    return this.options.models[model] ?? this.options.models['*'] ?? STEADY;
  }

  private ttft(b: SimulatedBehaviour): number {
    const { p50, p99 } = b.ttftMs;
    if (p50 <= 0) return 0;
    const sigma = Math.log(Math.max(p99, p50) / p50) / Z99;
    // Box-Muller for a standard normal draw.
    const z = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return Math.min(p50 * Math.exp(sigma * z), p99 * 3);
  }

  private drawFault(b: SimulatedBehaviour, streaming: boolean): Fault {
    const f = b.faults;
    let roll = this.random();
    const table: Array<[Fault, number]> = [
      ['error', f.errorRate],
      ['rate-limit', f.rateLimitRate],
      ['hang', f.hangRate],
      ['malformed', f.malformedRate],
      ['cut', streaming ? f.cutStreamRate : 0],
    ];
    for (const [fault, p] of table) {
      if (roll < p) return fault;
      roll -= p;
    }
    return 'none';
  }

  private async failFirst(fault: Fault, b: SimulatedBehaviour, signal: AbortSignal): Promise<void> {
    if (fault === 'hang') {
      await new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if (fault === 'error') {
      const statuses = b.faults.errorStatuses;
      const status = statuses[Math.floor(this.random() * statuses.length)] ?? 500;
      throw statusError(status, 'simulated upstream failure');
    }
    if (fault === 'rate-limit') throw statusError(429, 'simulated rate limit', b.faults.retryAfterMs);
    if (fault === 'malformed')
      throw new KeelError('KEEL_UPSTREAM_MALFORMED', 'simulated malformed upstream body');
  }

  private answer(request: ChatRequest, b: SimulatedBehaviour): { text: string; toolCalls?: ToolCall[] } {
    const last = request.messages.at(-1);
    const wantsTool =
      request.tools && request.tools.length > 0 && request.tool_choice !== 'none' && last?.role !== 'tool';
    if (wantsTool) {
      const tool = request.tools?.[0];
      return {
        text: '',
        toolCalls: [
          {
            id: `call_${completionId().slice(9)}`,
            type: 'function',
            function: { name: tool?.function.name ?? 'tool', arguments: '{}' },
          },
        ],
      };
    }
    if (b.reply !== undefined) return { text: b.reply };
    const words = `Simulated answer to: ${textOf(last)}`.split(/\s+/).slice(0, b.outputTokens);
    return { text: words.join(' ') };
  }

  private usage(request: ChatRequest, outputTokens: number): Usage {
    const prompt = estimateTokens(request.messages);
    return { prompt_tokens: prompt, completion_tokens: outputTokens, total_tokens: prompt + outputTokens };
  }

  async chat(request: ChatRequest, { model, signal }: CallOptions): Promise<ChatCompletion> {
    const b = this.behaviour(model);
    const fault = this.drawFault(b, false);
    const { text, toolCalls } = this.answer(request, b);
    const tokens = toolCalls ? 8 : text.split(' ').length;
    await this.clock.sleep(this.ttft(b) + (tokens * 1000) / b.tokensPerSecond, signal);
    await this.failFirst(fault, b, signal);
    const message: ChatMessage = { role: 'assistant', content: toolCalls ? null : text };
    if (toolCalls) message.tool_calls = toolCalls;
    return {
      id: completionId(),
      object: 'chat.completion',
      created: Math.floor(this.clock.now() / 1000),
      model,
      choices: [{ index: 0, message, finish_reason: toolCalls ? 'tool_calls' : 'stop' }],
      usage: this.usage(request, tokens),
    };
  }

  async *stream(request: ChatRequest, { model, signal }: CallOptions): AsyncGenerator<ChatChunk> {
    const b = this.behaviour(model);
    const fault = this.drawFault(b, true);
    const { text, toolCalls } = this.answer(request, b);
    await this.clock.sleep(this.ttft(b), signal);
    await this.failFirst(fault, b, signal);
    const id = completionId();
    const created = Math.floor(this.clock.now() / 1000);
    const chunk = (
      delta: ChatChunk['choices'][number]['delta'],
      finish: 'stop' | 'tool_calls' | null = null,
    ): ChatChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    yield chunk({ role: 'assistant', content: '' });
    if (toolCalls) {
      yield chunk({ tool_calls: toolCalls.map((call, index) => ({ index, ...call })) });
      yield chunk({}, 'tool_calls');
    } else {
      const words = text.split(' ');
      for (let i = 0; i < words.length; i++) {
        if (fault === 'cut' && i >= b.faults.cutAfterChunks) {
          throw new KeelError('KEEL_STREAM_CUT', 'simulated stream cut: upstream closed before the end');
        }
        await this.clock.sleep(1000 / b.tokensPerSecond, signal);
        yield chunk({ content: i === 0 ? (words[i] ?? '') : ` ${words[i] ?? ''}` });
      }
      yield chunk({}, 'stop');
    }
    if (request.stream_options?.include_usage) {
      yield { ...chunk({}), choices: [], usage: this.usage(request, text.split(' ').length) };
    }
  }

  async embeddings(request: EmbeddingRequest, { model, signal }: CallOptions): Promise<EmbeddingResponse> {
    const b = this.behaviour(model);
    const fault = this.drawFault(b, false);
    await this.clock.sleep(this.ttft(b), signal);
    await this.failFirst(fault, b, signal);
    const inputs = Array.isArray(request.input) ? request.input : [request.input];
    const dimensions = request.dimensions ?? 16;
    if (inputs.length * dimensions > 1_000_000) {
      // A stand-in model should not spend seconds of the event loop on one request.
      throw new KeelError(
        'KEEL_UPSTREAM_BAD_REQUEST',
        'simulated model: inputs × dimensions is limited to 1,000,000',
      );
    }
    const data = inputs.map((input, index) => ({
      object: 'embedding' as const,
      index,
      embedding: pseudoEmbedding(JSON.stringify(input), dimensions),
    }));
    const tokens = inputs.reduce<number>(
      (sum, input) => sum + Math.ceil(JSON.stringify(input).length / 4),
      0,
    );
    return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }
}

/** A deterministic unit vector from a string (FNV-1a seeded xorshift), so equal texts embed equally. */
function pseudoEmbedding(text: string, dimensions: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    out.push(((h >>> 0) / 0xffffffff) * 2 - 1);
  }
  const norm = Math.hypot(...out) || 1;
  return out.map((v) => v / norm);
}
