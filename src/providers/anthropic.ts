import type { Pool } from 'undici';
import { KeelError } from '../core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ChunkDelta,
  ContentPart,
  FinishReason,
  ToolCall,
  Usage,
} from '../core/types.ts';
import { createPool, jsonHeaders, postJson, postJsonRead, streamError } from './http.ts';
import { abortOf, type CallOptions, type Provider } from './provider.ts';
import { parseSse, type SseEvent } from './sse.ts';

export interface AnthropicProviderOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  /** The `anthropic-version` header. */
  version?: string;
  headers?: Record<string, string>;
  maxConnections?: number;
}

/** Anthropic requires `max_tokens`; OpenAI clients usually leave it out. */
export const DEFAULT_MAX_TOKENS = 4096;
const DEFAULT_VERSION = '2023-06-01';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(message: string, param: string): KeelError {
  return new KeelError('KEEL_INVALID_REQUEST', message, { param });
}

function malformed(message: string): KeelError {
  return new KeelError('KEEL_UPSTREAM_MALFORMED', message);
}

// ---------------------------------------------------------------------------------------------------
// Request: OpenAI chat request → Messages API body
// ---------------------------------------------------------------------------------------------------

/** The text of a message whose content may only be text (system, developer, tool). */
function textOf(content: ChatMessage['content'], param: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array', param);
  return content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(`content part of type "${part.type}" is not supported here`, `${param}[${j}]`);
      }
      return part.text;
    })
    .join('\n');
}

function imageBlock(part: ContentPart, param: string): Json {
  const image = part.image_url;
  const url = typeof image === 'string' ? image : isObject(image) ? image.url : undefined;
  if (typeof url !== 'string') throw invalid('image_url part has no url', param);
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]+)(?:;[^;,]+)*;base64,(.*)$/s.exec(url);
    if (!match) throw invalid('image data URLs must be base64-encoded', param);
    return { type: 'image', source: { type: 'base64', media_type: match[1], data: match[2] } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid('image URLs must be http(s) or base64 data URLs', param);
}

/** User / assistant content → Anthropic content blocks (empty text dropped: Anthropic rejects it). */
function contentBlocks(content: ChatMessage['content'], param: string): Json[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array', param);
  const blocks: Json[] = [];
  content.forEach((part, j) => {
    const where = `${param}[${j}]`;
    if (!isObject(part)) throw invalid('content part must be an object', where);
    if (part.type === 'text' || part.type === 'refusal') {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (typeof text !== 'string') throw invalid(`${part.type} part has no text`, where);
      if (text !== '') blocks.push({ type: 'text', text });
    } else if (part.type === 'image_url') {
      blocks.push(imageBlock(part, where));
    } else {
      throw invalid(`content part of type "${String(part.type)}" is not supported by Anthropic`, where);
    }
  });
  return blocks;
}

function toolUseBlock(call: ToolCall, param: string): Json {
  if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== 'string') {
    throw invalid('tool call must have function.name', param);
  }
  const raw = call.function.arguments;
  let input: unknown;
  try {
    // Some clients send "" for a call without arguments.
    input = typeof raw !== 'string' || raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw invalid(`tool call "${call.function.name}" has arguments that are not valid JSON`, param);
  }
  if (!isObject(input)) {
    throw invalid(`tool call "${call.function.name}" arguments must be a JSON object`, param);
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let mapped: Json | undefined;
  if (choice === undefined || choice === null) mapped = undefined;
  else if (choice === 'auto') mapped = { type: 'auto' };
  else if (choice === 'required') mapped = { type: 'any' };
  else if (choice === 'none') mapped = { type: 'none' };
  else if (
    isObject(choice) &&
    choice.type === 'function' &&
    isObject(choice.function) &&
    typeof choice.function.name === 'string'
  ) {
    mapped = { type: 'tool', name: choice.function.name };
  } else {
    throw invalid('tool_choice must be "auto", "required", "none" or a named function', 'tool_choice');
  }
  if (parallel === false && mapped?.type !== 'none') {
    mapped = { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  return mapped;
}

/**
 * Anthropic's Messages API has no `response_format`. Dropping it would hand the client free text
 * where it asked for JSON, so the requirement travels as an instruction appended to the system
 * prompt instead: the model is told to answer with JSON only, matching the schema when one is given.
 * (This is a request, not a guarantee: the answer is not validated against the schema.)
 */
function responseFormatInstruction(format: Record<string, unknown> | undefined): string | undefined {
  if (!isObject(format) || format.type === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    return 'Respond only with a single valid JSON object: no prose, no Markdown code fences.';
  }
  if (format.type === 'json_schema') {
    const spec = isObject(format.json_schema) ? format.json_schema : undefined;
    if (!spec || !isObject(spec.schema)) {
      throw invalid('response_format.json_schema.schema must be an object', 'response_format');
    }
    const name = typeof spec.name === 'string' ? ` "${spec.name}"` : '';
    return (
      `Respond only with a single JSON value that conforms to the following JSON schema${name}: ` +
      'no prose, no Markdown code fences.\n' +
      JSON.stringify(spec.schema)
    );
  }
  throw invalid(`response_format type "${String(format.type)}" is not supported`, 'response_format');
}

/**
 * Translate an OpenAI chat request to a Messages API body (without `stream`). Throws
 * KEEL_INVALID_REQUEST, naming the field, for what cannot be expressed.
 *
 * Sampling hints Anthropic has no equivalent for (seed, presence/frequency penalties, logprobs) are
 * not sent. `n` above 1 is refused rather than answered with one choice.
 */
export function toAnthropicRequest(request: ChatRequest, model: string): Json {
  if (!Array.isArray(request.messages)) throw invalid('messages must be an array', 'messages');
  if (typeof request.n === 'number' && request.n > 1) {
    throw invalid('Anthropic models return one choice: n must be 1', 'n');
  }
  const system: string[] = [];
  const messages: Json[] = [];
  // The open user message collecting consecutive tool results, if the last message was a tool result.
  let toolResults: Json[] | undefined;

  request.messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    if (!isObject(message)) throw invalid('message must be an object', param);
    if (message.role !== 'tool') toolResults = undefined;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content, `${param}.content`);
        if (text !== '') system.push(text);
        break;
      }
      case 'user': {
        const content = message.content;
        messages.push({
          role: 'user',
          content: typeof content === 'string' ? content : contentBlocks(content, `${param}.content`),
        });
        break;
      }
      case 'assistant': {
        const blocks = contentBlocks(message.content, `${param}.content`);
        if (message.tool_calls !== undefined) {
          if (!Array.isArray(message.tool_calls))
            throw invalid('tool_calls must be an array', `${param}.tool_calls`);
          for (const call of message.tool_calls) blocks.push(toolUseBlock(call, `${param}.tool_calls`));
        }
        // Anthropic rejects an empty assistant turn; an empty one says nothing, so it is left out.
        if (blocks.length > 0) messages.push({ role: 'assistant', content: blocks });
        break;
      }
      case 'tool': {
        if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
          throw invalid('tool message must have tool_call_id', `${param}.tool_call_id`);
        }
        const result = {
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          content: textOf(message.content, `${param}.content`),
        };
        if (toolResults) toolResults.push(result);
        else {
          toolResults = [result];
          messages.push({ role: 'user', content: toolResults });
        }
        break;
      }
      default:
        throw invalid(`unknown message role "${String(message.role)}"`, `${param}.role`);
    }
  });

  const instruction = responseFormatInstruction(request.response_format);
  if (instruction) system.push(instruction);

  const body: Json = {
    model,
    max_tokens: request.max_tokens ?? request.max_completion_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.stop !== undefined && request.stop !== null) {
    body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool, i) => {
      if (!isObject(tool) || !isObject(tool.function) || typeof tool.function.name !== 'string') {
        throw invalid('tool must have function.name', `tools[${i}]`);
      }
      const out: Json = {
        name: tool.function.name,
        input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
      };
      if (tool.function.description !== undefined) out.description = tool.function.description;
      return out;
    });
  }
  const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
  if (choice) body.tool_choice = choice;
  if (typeof request.user === 'string' && request.user !== '') body.metadata = { user_id: request.user };
  return body;
}

// ---------------------------------------------------------------------------------------------------
// Response: Messages API → OpenAI chat completion
// ---------------------------------------------------------------------------------------------------

function finishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, or none given.
      return 'stop';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Anthropic's `input_tokens` excludes tokens read from or written to the prompt cache; OpenAI's
 * `prompt_tokens` counts the whole prompt, so both are added back in.
 */
function toUsage(usage: Json): Usage {
  const prompt =
    count(usage.input_tokens) +
    count(usage.cache_read_input_tokens) +
    count(usage.cache_creation_input_tokens);
  const completion = count(usage.output_tokens);
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (typeof usage.cache_read_input_tokens === 'number') {
    out.prompt_tokens_details = { cached_tokens: usage.cache_read_input_tokens };
  }
  return out;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Translate a Messages API response body; a body without content or model is KEEL_UPSTREAM_MALFORMED. */
export function fromAnthropicResponse(body: unknown): ChatCompletion {
  if (!isObject(body) || !Array.isArray(body.content)) {
    throw malformed('upstream message has no content array');
  }
  if (typeof body.model !== 'string') throw malformed('upstream message has no model');
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (!isObject(block) || typeof block.type !== 'string') {
      throw malformed('upstream message has a content block without a type');
    }
    if (block.type === 'text') {
      if (typeof block.text !== 'string') throw malformed('upstream text block has no text');
      texts.push(block.text);
    } else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw malformed('upstream tool_use block has no id or name');
      }
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // Other blocks (thinking, redacted_thinking, server tool results) have no OpenAI counterpart.
  }
  const message: ChatMessage = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '',
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: typeof body.id === 'string' ? body.id : `msg_${globalThis.crypto.randomUUID()}`,
    object: 'chat.completion',
    created: now(),
    model: body.model,
    choices: [{ index: 0, message, finish_reason: finishReason(body.stop_reason) }],
  };
  if (isObject(body.usage)) completion.usage = toUsage(body.usage);
  return completion;
}

// ---------------------------------------------------------------------------------------------------
// Streaming: Messages API events → OpenAI chunks
// ---------------------------------------------------------------------------------------------------

function errorEvent(data: Json): KeelError {
  const error = isObject(data.error) ? data.error : {};
  const type = typeof error.type === 'string' ? error.type : 'error';
  const message = typeof error.message === 'string' ? error.message.slice(0, 300) : 'error event';
  const code = type === 'rate_limit_error' ? 'KEEL_UPSTREAM_RATE_LIMITED' : 'KEEL_UPSTREAM_ERROR';
  return new KeelError(code, `upstream stream failed: ${type}: ${message}`);
}

/** Stateful translation of one stream's events; `done` turns true at message_stop. */
class StreamTranslator {
  done = false;
  private id = '';
  private model = '';
  private created = now();
  private started = false;
  private stopReason: unknown = null;
  private usage: Json = {};
  /** Anthropic content block index → OpenAI tool call index (tool blocks only). */
  private readonly tools = new Map<number, number>();

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  push(event: SseEvent): ChatChunk[] {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw malformed(`upstream stream event is not JSON (${event.data.length} bytes)`);
    }
    if (!isObject(data)) throw malformed('upstream stream event is not an object');
    const type = typeof data.type === 'string' ? data.type : event.event;
    if (type === 'error') throw errorEvent(data);
    if (type === 'ping') return [];
    if (type === 'message_start') return this.start(data);
    const known = [
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ];
    // Anthropic may add event types: unknown ones are skipped.
    if (!known.includes(type)) return [];
    if (!this.started) throw malformed(`upstream stream sent ${type} before message_start`);
    switch (type) {
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'message_delta':
        if (isObject(data.delta) && data.delta.stop_reason !== undefined) {
          this.stopReason = data.delta.stop_reason;
        }
        if (isObject(data.usage)) this.mergeUsage(data.usage);
        return [];
      case 'message_stop': {
        this.done = true;
        const last = this.chunk({}, finishReason(this.stopReason));
        last.usage = toUsage(this.usage);
        return [last];
      }
      default:
        return []; // content_block_stop: nothing to say in OpenAI terms
    }
  }

  /** message_delta carries cumulative counts; keep whatever numbers the latest event has. */
  private mergeUsage(usage: Json): void {
    for (const [key, value] of Object.entries(usage)) {
      if (typeof value === 'number') this.usage[key] = value;
    }
  }

  private start(data: Json): ChatChunk[] {
    const message = data.message;
    if (!isObject(message) || typeof message.model !== 'string') {
      throw malformed('upstream message_start has no message');
    }
    this.started = true;
    this.id = typeof message.id === 'string' ? message.id : `msg_${globalThis.crypto.randomUUID()}`;
    this.model = message.model;
    if (isObject(message.usage)) this.mergeUsage(message.usage);
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private blockStart(data: Json): ChatChunk[] {
    const block = data.content_block;
    if (typeof data.index !== 'number' || !isObject(block)) {
      throw malformed('upstream content_block_start has no index or block');
    }
    if (block.type === 'text') {
      return typeof block.text === 'string' && block.text !== '' ? [this.chunk({ content: block.text })] : [];
    }
    if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw malformed('upstream tool_use block has no id or name');
      }
      const index = this.tools.size;
      this.tools.set(data.index, index);
      return [
        this.chunk({
          tool_calls: [
            { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
          ],
        }),
      ];
    }
    return [];
  }

  private blockDelta(data: Json): ChatChunk[] {
    const delta = data.delta;
    if (typeof data.index !== 'number' || !isObject(delta)) {
      throw malformed('upstream content_block_delta has no index or delta');
    }
    if (delta.type === 'text_delta') {
      if (typeof delta.text !== 'string') throw malformed('upstream text_delta has no text');
      return delta.text === '' ? [] : [this.chunk({ content: delta.text })];
    }
    if (delta.type === 'input_json_delta') {
      const index = this.tools.get(data.index);
      if (index === undefined)
        throw malformed('upstream input_json_delta for a block that is not a tool_use');
      if (typeof delta.partial_json !== 'string')
        throw malformed('upstream input_json_delta has no partial_json');
      if (delta.partial_json === '') return [];
      return [this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] })];
    }
    // thinking_delta, signature_delta, citations_delta: no OpenAI counterpart.
    return [];
  }
}

/** Anthropic's Messages API, translated to and from Keel's OpenAI vocabulary at this edge. */
export class AnthropicProvider implements Provider {
  readonly type = 'anthropic';
  private readonly agent: Pool;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  /** The headers of every buffered call, built once. */
  private readonly readHeaders: Record<string, string>;

  constructor(options: AnthropicProviderOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v1/messages`;
    this.agent = createPool(this.url, options.maxConnections ?? 128);
    this.headers = { ...options.headers, 'anthropic-version': options.version ?? DEFAULT_VERSION };
    if (options.apiKey) this.headers['x-api-key'] = options.apiKey;
    this.readHeaders = jsonHeaders(this.headers);
  }

  private post(body: Json, signal: AbortSignal, accept: string) {
    return postJson({
      url: this.url,
      headers: { ...this.headers, accept },
      body: JSON.stringify(body),
      signal,
      dispatcher: this.agent,
    });
  }

  async chat(request: ChatRequest, options: CallOptions): Promise<ChatCompletion> {
    const body = toAnthropicRequest(request, options.model);
    return fromAnthropicResponse(
      await postJsonRead({
        url: this.url,
        headers: this.readHeaders,
        body: JSON.stringify(body),
        signal: abortOf(options),
        dispatcher: this.agent,
      }),
    );
  }

  async *stream(request: ChatRequest, { model, signal }: CallOptions): AsyncGenerator<ChatChunk> {
    const body = { ...toAnthropicRequest(request, model), stream: true };
    const response = await this.post(body, signal, 'text/event-stream');
    const translator = new StreamTranslator();
    try {
      for await (const event of parseSse(response.body)) {
        yield* translator.push(event);
        if (translator.done) break;
      }
    } catch (err) {
      throw streamError(err, signal);
    } finally {
      // Early exit (client gone, error): drop the connection rather than drain an unwanted answer.
      if (!translator.done) (response.body as unknown as { destroy(): void }).destroy();
    }
    if (!translator.done) {
      throw new KeelError(
        'KEEL_STREAM_CUT',
        'upstream stream ended before message_stop: the answer is incomplete',
      );
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
