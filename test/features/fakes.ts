/**
 * Fakes of the feature pipeline's ports: a prompt registry in memory, a scripted router, guards and a
 * review queue that record what they were given.
 */
import type { ChatCompletion, ChatMessage, ChatRequest } from '../../src/core/types.ts';
import { compileFeatures, type FeatureConfigInput, featureConfigSchema } from '../../src/features/config.ts';
import type {
  ChatPort,
  FeatureInput,
  GuardContext,
  GuardsPort,
  InputVerdict,
  OutputVerdict,
  PromptsPort,
  RenderedPrompt,
  ReviewPort,
  ReviewRequest,
  RouteAnswer,
} from '../../src/features/ports.ts';

export function features(declared: Record<string, FeatureConfigInput>) {
  const parsed = Object.fromEntries(
    Object.entries(declared).map(([name, f]) => [name, featureConfigSchema.parse(f)]),
  );
  return compileFeatures(parsed);
}

function fill(content: string, variables: Record<string, unknown>): string {
  return content.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in variables)) throw new Error(`variables.${name}: required variable is missing`);
    return String(variables[name]);
  });
}

interface FakeVersion {
  messages: Array<{ role: 'system' | 'user'; content: string }>;
  /** Rendering this version throws (a template bug). */
  broken?: boolean;
  temperature?: number;
}

export class FakePrompts implements PromptsPort {
  readonly versions = new Map<string, FakeVersion>();
  readonly labels = new Map<string, string>();
  readonly good: string[] = [];
  readonly rendered: string[] = [];

  constructor(readonly name = 'p') {}

  add(version: string, v: FakeVersion, ...labels: string[]): this {
    this.versions.set(version, v);
    for (const label of labels) this.labels.set(label, version);
    return this;
  }

  resolve(name: string, label: string) {
    return name === this.name ? this.labels.get(label) : undefined;
  }

  render(name: string, version: string, variables: Record<string, unknown>): RenderedPrompt {
    const v = this.versions.get(version);
    if (name !== this.name || !v) throw new Error(`no version ${name}@${version}`);
    if (v.broken) throw new Error(`template of ${version} is broken`);
    this.rendered.push(version);
    return {
      messages: v.messages.map((m) => ({ role: m.role, content: fill(m.content, variables) })),
      temperature: v.temperature,
    };
  }

  renderInline(
    messages: Array<{ role: ChatMessage['role']; content: string }>,
    variables: Record<string, unknown>,
  ) {
    return { messages: messages.map((m) => ({ role: m.role, content: fill(m.content, variables) })) };
  }

  lastKnownGood(_name: string, exclude?: string) {
    return [...this.good].reverse().find((v) => v !== exclude);
  }

  markKnownGood(_name: string, version: string) {
    this.good.push(version);
  }

  readonly failed: string[] = [];

  reportFailure(_name: string, version: string) {
    this.failed.push(version);
  }
}

export type Reply = string | Error | { text: string; delayMs: number };

export interface ChatCall {
  route: string;
  request: ChatRequest;
}

/** A router whose answers come from `script(route, request, callIndex)`. Each call costs $0.001. */
export class ScriptedChat implements ChatPort {
  readonly calls: ChatCall[] = [];

  constructor(private readonly script: (route: string, request: ChatRequest, n: number) => Reply) {}

  async chat(route: string, request: ChatRequest, signal: AbortSignal): Promise<RouteAnswer> {
    this.calls.push({ route, request: structuredClone(request) });
    const reply = this.script(route, request, this.calls.length - 1);
    if (reply instanceof Error) throw reply;
    let text = reply as string;
    if (typeof reply === 'object') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, reply.delayMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(signal.reason);
          },
          { once: true },
        );
      });
      text = reply.text;
    }
    const completion: ChatCompletion = {
      id: `c${this.calls.length}`,
      object: 'chat.completion',
      created: 0,
      model: `${route}-model`,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    };
    return { completion, costUsd: 0.001, target: `${route}-model` };
  }
}

/** The text of a message, for assertions. */
export const contentOf = (m: ChatMessage | undefined) => (typeof m?.content === 'string' ? m.content : '');

export class FakeGuards implements GuardsPort {
  readonly inputs: FeatureInput[] = [];
  readonly outputs: string[] = [];
  readonly contexts: GuardContext[] = [];

  constructor(
    private readonly onInput: (input: FeatureInput) => InputVerdict = () => ({ action: 'allow' }),
    private readonly onOutput: (text: string) => OutputVerdict = () => ({ action: 'allow' }),
  ) {}

  async checkInput(input: FeatureInput, ctx: GuardContext) {
    this.inputs.push(input);
    this.contexts.push(ctx);
    return this.onInput(input);
  }

  async checkOutput(text: string, ctx: GuardContext) {
    this.outputs.push(text);
    this.contexts.push(ctx);
    return this.onOutput(text);
  }
}

export class FakeReview implements ReviewPort {
  readonly items: ReviewRequest[] = [];

  async enqueue(item: ReviewRequest) {
    this.items.push(item);
    return { id: `rev_${this.items.length}` };
  }
}

export const never = () => new AbortController().signal;
