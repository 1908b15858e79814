import type { Clock } from '../../src/core/clock.ts';
import type { KeelError } from '../../src/core/errors.ts';
import type { ChatChunk, ChatCompletion, ChatRequest } from '../../src/core/types.ts';
import type { CallOptions, Provider } from '../../src/providers/provider.ts';

/** What one call does, in fake-clock time. */
export type Step =
  | { ok: string; afterMs?: number }
  | { fail: () => KeelError; afterMs?: number }
  | { hang: true };

/** A provider that follows a script, one step per call (the last step repeats), timed by a clock. */
export class ScriptedProvider implements Provider {
  readonly type = 'scripted';
  calls = 0;
  /** Calls whose signal aborted before they finished. */
  aborted = 0;

  constructor(
    private readonly clock: Clock,
    private readonly steps: Step[],
  ) {}

  private async step({ signal }: CallOptions): Promise<string> {
    const step = this.steps[Math.min(this.calls, this.steps.length - 1)]!;
    this.calls++;
    try {
      if ('hang' in step) {
        await new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
      if ('afterMs' in step && step.afterMs) await this.clock.sleep(step.afterMs, signal);
    } catch (err) {
      this.aborted++;
      throw err;
    }
    if ('fail' in step) throw step.fail();
    return (step as { ok: string }).ok;
  }

  async chat(_request: ChatRequest, options: CallOptions): Promise<ChatCompletion> {
    const text = await this.step(options);
    return {
      id: 'c',
      object: 'chat.completion',
      created: 0,
      model: options.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    };
  }

  async *stream(_request: ChatRequest, options: CallOptions): AsyncGenerator<ChatChunk> {
    const text = await this.step(options);
    yield {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: options.model,
      choices: [{ index: 0, delta: { content: text }, finish_reason: 'stop' }],
    };
  }
}
