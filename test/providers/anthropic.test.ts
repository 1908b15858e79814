import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { KeelError } from '../../src/core/errors.ts';
import type { ChatChunk, ChatRequest } from '../../src/core/types.ts';
import {
  AnthropicProvider,
  fromAnthropicResponse,
  toAnthropicRequest,
} from '../../src/providers/anthropic.ts';
import { neverAnswers, rejectsWith } from '../helpers/never-answers.ts';

type Json = Record<string, unknown>;

interface Received {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Json;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Json) => void;

/** A fake Messages API on 127.0.0.1: records every request, answers with `handler`. */
async function fakeAnthropic(handler: Handler) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Json;
      received.push({ url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Server + provider for one test, both closed when the test ends (pass or fail). */
async function setup(t: TestContext, handler: Handler) {
  const upstream = await fakeAnthropic(handler);
  const provider = new AnthropicProvider({ baseUrl: `${upstream.url}/`, apiKey: 'sk-ant-test' });
  t.after(async () => {
    await provider.close();
    await upstream.close();
  });
  return { upstream, provider };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function event(type: string, data: Json = {}): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function startSse(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

const messageStart = (usage: Json = { input_tokens: 12, output_tokens: 1 }) =>
  event('message_start', {
    message: {
      id: 'msg_stream1',
      type: 'message',
      role: 'assistant',
      model: 'claude-stream-model',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });

function opts(signal = new AbortController().signal) {
  return { model: 'claude-upstream', signal };
}

function keelError(code: string, check?: (err: KeelError) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof KeelError, `expected a KeelError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    check?.(err);
    return true;
  };
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<{ chunks: ChatChunk[]; error?: unknown }> {
  const chunks: ChatChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks };
}

const content = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

test('plain completion: system prompt, default max_tokens, auth headers and usage', async (t) => {
  const { upstream, provider } = await setup(t, (_req, res) =>
    json(res, 200, {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-answered-model',
      content: [
        { type: 'text', text: 'Hello, ' },
        { type: 'text', text: 'world.' },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 4 },
    }),
  );
  const request: ChatRequest = {
    model: 'route',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
      { role: 'user', content: 'Hi' },
    ],
    temperature: 0.2,
    stop: 'END',
    user: 'user-42',
  };
  const completion = await provider.chat(request, opts());

  assert.equal(upstream.received.length, 1);
  const [sent] = upstream.received;
  assert.equal(sent?.url, '/v1/messages');
  assert.equal(sent?.headers['x-api-key'], 'sk-ant-test');
  assert.equal(sent?.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent?.headers.authorization, undefined);
  assert.deepEqual(sent?.body, {
    model: 'claude-upstream',
    max_tokens: 4096,
    system: 'Be brief.\n\nUse metric units.',
    messages: [{ role: 'user', content: 'Hi' }],
    temperature: 0.2,
    stop_sequences: ['END'],
    metadata: { user_id: 'user-42' },
  });

  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'claude-answered-model');
  assert.deepEqual(completion.choices, [
    { index: 0, message: { role: 'assistant', content: 'Hello, world.' }, finish_reason: 'stop' },
  ]);
  assert.deepEqual(completion.usage, {
    prompt_tokens: 14,
    completion_tokens: 5,
    total_tokens: 19,
    prompt_tokens_details: { cached_tokens: 4 },
  });
});

test('max_tokens and max_completion_tokens are passed instead of the default', async () => {
  const base: ChatRequest = { model: 'r', messages: [{ role: 'user', content: 'x' }] };
  assert.equal(toAnthropicRequest({ ...base, max_tokens: 99 }, 'm').max_tokens, 99);
  assert.equal(toAnthropicRequest({ ...base, max_completion_tokens: 77 }, 'm').max_tokens, 77);
  assert.equal(toAnthropicRequest(base, 'm').max_tokens, 4096);
});

test('tool calls both ways: tools, assistant tool_calls and tool results become Anthropic blocks', async (t) => {
  const { upstream, provider } = await setup(t, (_req, res) =>
    json(res, 200, {
      id: 'msg_02',
      type: 'message',
      role: 'assistant',
      model: 'claude-answered-model',
      content: [
        { type: 'text', text: 'Checking the time too.' },
        { type: 'tool_use', id: 'toolu_9', name: 'get_time', input: { tz: 'Europe/Paris' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 50, output_tokens: 20 },
    }),
  );
  const completion = await provider.chat(
    {
      model: 'route',
      messages: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'call_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '4C rain' }] },
        { role: 'user', content: 'And the time?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    },
    opts(),
  );

  const body = upstream.received[0]?.body;
  assert.deepEqual(body?.messages, [
    { role: 'user', content: 'Weather in Paris and Oslo?' },
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Oslo' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: '18C sunny' },
        { type: 'tool_result', tool_use_id: 'call_2', content: '4C rain' },
      ],
    },
    { role: 'user', content: 'And the time?' },
  ]);
  assert.deepEqual(body?.tools, [
    {
      name: 'get_weather',
      description: 'Current weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
    { name: 'get_time', input_schema: { type: 'object', properties: {} } },
  ]);
  assert.deepEqual(body?.tool_choice, { type: 'tool', name: 'get_time' });

  const choice = completion.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.content, 'Checking the time too.');
  assert.deepEqual(choice?.message.tool_calls, [
    { id: 'toolu_9', type: 'function', function: { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' } },
  ]);
  assert.deepEqual(completion.usage, { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 });
});

test('tool_choice strings map to Anthropic tool_choice objects', () => {
  const base: ChatRequest = {
    model: 'r',
    messages: [{ role: 'user', content: 'x' }],
    tools: [{ type: 'function', function: { name: 'f' } }],
  };
  assert.deepEqual(toAnthropicRequest({ ...base, tool_choice: 'auto' }, 'm').tool_choice, { type: 'auto' });
  assert.deepEqual(toAnthropicRequest({ ...base, tool_choice: 'required' }, 'm').tool_choice, {
    type: 'any',
  });
  assert.deepEqual(toAnthropicRequest({ ...base, tool_choice: 'none' }, 'm').tool_choice, { type: 'none' });
  assert.equal(toAnthropicRequest(base, 'm').tool_choice, undefined);
  assert.throws(
    () => toAnthropicRequest({ ...base, tool_choice: 'sometimes' }, 'm'),
    keelError('KEEL_INVALID_REQUEST', (err) => assert.equal(err.param, 'tool_choice')),
  );
});

test('unparseable assistant tool_call arguments are an invalid request naming the field', () => {
  assert.throws(
    () =>
      toAnthropicRequest(
        {
          model: 'r',
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"city":' } }],
            },
          ],
        },
        'm',
      ),
    keelError('KEEL_INVALID_REQUEST', (err) => assert.equal(err.param, 'messages[1].tool_calls')),
  );
});

test('image parts: data URLs become base64 sources, https URLs become url sources', () => {
  const body = toAnthropicRequest(
    {
      model: 'r',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    },
    'm',
  );
  assert.deepEqual(body.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Compare these' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ],
    },
  ]);
  assert.throws(
    () =>
      toAnthropicRequest(
        {
          model: 'r',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
        },
        'm',
      ),
    keelError('KEEL_INVALID_REQUEST', (err) => assert.equal(err.param, 'messages[0].content[0]')),
  );
});

test('response_format json_schema is carried as a system prompt instruction, not dropped', () => {
  const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
  const body = toAnthropicRequest(
    {
      model: 'r',
      messages: [
        { role: 'system', content: 'You do arithmetic.' },
        { role: 'user', content: '2+2?' },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'result', schema } },
    },
    'm',
  );
  assert.equal(typeof body.system, 'string');
  const system = body.system as string;
  assert.ok(system.startsWith('You do arithmetic.\n\n'), system);
  assert.ok(system.includes(JSON.stringify(schema)), system);
  assert.match(system, /JSON/);
  assert.equal(body.response_format, undefined);
});

test('fromAnthropicResponse: a body without content or model is malformed', () => {
  assert.throws(() => fromAnthropicResponse({ model: 'x' }), keelError('KEEL_UPSTREAM_MALFORMED'));
  assert.throws(() => fromAnthropicResponse({ content: [] }), keelError('KEEL_UPSTREAM_MALFORMED'));
  assert.throws(() => fromAnthropicResponse('nope'), keelError('KEEL_UPSTREAM_MALFORMED'));
  assert.throws(
    () => fromAnthropicResponse({ model: 'x', content: [{ type: 'tool_use', input: {} }] }),
    keelError('KEEL_UPSTREAM_MALFORMED'),
  );
  const completion = fromAnthropicResponse({ model: 'x', content: [], stop_reason: 'max_tokens' });
  assert.equal(completion.choices[0]?.finish_reason, 'length');
});

test('streaming text assembles into OpenAI chunks with a final finish_reason and usage', async (t) => {
  const { upstream, provider } = await setup(t, (_req, res) => {
    startSse(res);
    const stream =
      messageStart({ input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 3 }) +
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      event('ping') +
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }) +
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' world' } }) +
      event('content_block_stop', { index: 0 }) +
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 7 },
      }) +
      event('message_stop');
    // Split mid-event so the parser has to reassemble across network chunks.
    const cut = stream.indexOf('Hello') + 2;
    res.write(stream.slice(0, cut));
    setTimeout(() => res.end(stream.slice(cut)), 10);
  });

  const { chunks, error } = await collect(
    provider.stream({ model: 'route', messages: [{ role: 'user', content: 'Hi' }] }, opts()),
  );
  assert.equal(error, undefined);

  const sent = upstream.received[0];
  assert.equal(sent?.body.stream, true);
  assert.equal(sent?.body.max_tokens, 4096);
  assert.equal(sent?.headers.accept, 'text/event-stream');

  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  assert.equal(content(chunks), 'Hello world');
  for (const chunk of chunks) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, 'msg_stream1');
    assert.equal(chunk.model, 'claude-stream-model');
  }
  const last = chunks.at(-1);
  assert.equal(last?.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(last?.usage, {
    prompt_tokens: 15,
    completion_tokens: 7,
    total_tokens: 22,
    prompt_tokens_details: { cached_tokens: 3 },
  });
  assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason !== null).length, 1);
});

test('streaming tool use: tool blocks become indexed tool_call deltas', async (t) => {
  const { provider } = await setup(t, (_req, res) => {
    startSse(res);
    res.end(
      messageStart() +
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Looking up.' } }) +
        event('content_block_stop', { index: 0 }) +
        event('content_block_start', {
          index: 1,
          content_block: { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} },
        }) +
        event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }) +
        event('content_block_delta', {
          index: 1,
          delta: { type: 'input_json_delta', partial_json: '{"city": ' },
        }) +
        event('content_block_delta', {
          index: 1,
          delta: { type: 'input_json_delta', partial_json: '"Paris"}' },
        }) +
        event('content_block_stop', { index: 1 }) +
        event('content_block_start', {
          index: 2,
          content_block: { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} },
        }) +
        event('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } }) +
        event('content_block_stop', { index: 2 }) +
        event('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } }) +
        event('message_stop'),
    );
  });

  const { chunks, error } = await collect(
    provider.stream({ model: 'route', messages: [{ role: 'user', content: 'Weather?' }] }, opts()),
  );
  assert.equal(error, undefined);
  assert.equal(content(chunks), 'Looking up.');
  const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(toolDeltas, [
    { index: 0, id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
    { index: 0, function: { arguments: '{"city": ' } },
    { index: 0, function: { arguments: '"Paris"}' } },
    { index: 1, id: 'toolu_b', type: 'function', function: { name: 'get_time', arguments: '' } },
    { index: 1, function: { arguments: '{}' } },
  ]);
  // What a client accumulating the deltas ends up with.
  const args = ['', ''];
  for (const delta of toolDeltas) args[delta.index] += delta.function?.arguments ?? '';
  assert.deepEqual(JSON.parse(args[0] ?? ''), { city: 'Paris' });
  assert.deepEqual(JSON.parse(args[1] ?? ''), {});
  const last = chunks.at(-1);
  assert.equal(last?.choices[0]?.finish_reason, 'tool_calls');
  assert.deepEqual(last?.usage, { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 });
});

test('a stream that ends without message_stop throws KEEL_STREAM_CUT', async (t) => {
  const { provider } = await setup(t, (_req, res) => {
    startSse(res);
    res.end(
      messageStart() +
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Half an ans' } }) +
        event('content_block_stop', { index: 0 }) +
        event('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
    );
  });
  const { chunks, error } = await collect(
    provider.stream({ model: 'route', messages: [{ role: 'user', content: 'Hi' }] }, opts()),
  );
  assert.equal(content(chunks), 'Half an ans');
  assert.ok(chunks.every((c) => c.choices[0]?.finish_reason === null));
  keelError('KEEL_STREAM_CUT')(error);
});

test('an error event in the stream throws: overloaded → upstream error, rate limit → rate limited', async (t) => {
  const errors = ['overloaded_error', 'rate_limit_error'];
  const { provider } = await setup(t, (_req, res) => {
    startSse(res);
    const type = errors.shift();
    res.end(
      messageStart() +
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }) +
        event('error', { error: { type, message: `${type} happened` } }) +
        event('message_stop'),
    );
  });
  const request: ChatRequest = { model: 'route', messages: [{ role: 'user', content: 'Hi' }] };

  const first = await collect(provider.stream(request, opts()));
  assert.equal(content(first.chunks), 'Hel');
  keelError('KEEL_UPSTREAM_ERROR', (err) => assert.match(err.message, /overloaded_error happened/))(
    first.error,
  );

  const second = await collect(provider.stream(request, opts()));
  keelError('KEEL_UPSTREAM_RATE_LIMITED')(second.error);
});

test('HTTP error statuses are classified with the upstream message', async (t) => {
  const answers: Array<(res: ServerResponse) => void> = [
    (res) => json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    (res) =>
      json(res, 500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }),
    (res) =>
      json(
        res,
        429,
        { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } },
        { 'retry-after': '2' },
      ),
    (res) =>
      json(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'messages: roles must alternate' },
      }),
    (res) => json(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'Slow' } }),
  ];
  const { provider } = await setup(t, (_req, res) => answers.shift()?.(res));
  const request: ChatRequest = { model: 'route', messages: [{ role: 'user', content: 'Hi' }] };

  await assert.rejects(
    provider.chat(request, opts()),
    keelError('KEEL_UPSTREAM_ERROR', (err) => {
      assert.equal(err.upstreamStatus, 529);
      assert.match(err.message, /Overloaded/);
    }),
  );
  await assert.rejects(
    provider.chat(request, opts()),
    keelError('KEEL_UPSTREAM_ERROR', (err) => assert.equal(err.upstreamStatus, 500)),
  );
  await assert.rejects(
    provider.chat(request, opts()),
    keelError('KEEL_UPSTREAM_RATE_LIMITED', (err) => {
      assert.equal(err.upstreamStatus, 429);
      assert.equal(err.retryAfterMs, 2000);
    }),
  );
  await assert.rejects(
    provider.chat(request, opts()),
    keelError('KEEL_UPSTREAM_BAD_REQUEST', (err) => {
      assert.equal(err.upstreamStatus, 400);
      assert.match(err.message, /roles must alternate/);
    }),
  );
  // The streaming path classifies the same way before any chunk.
  const streamed = await collect(provider.stream(request, opts()));
  assert.equal(streamed.chunks.length, 0);
  keelError('KEEL_UPSTREAM_RATE_LIMITED')(streamed.error);
});

test('a non-JSON 200 body is KEEL_UPSTREAM_MALFORMED', async (t) => {
  const { provider } = await setup(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('<html>gateway says hi</html>');
  });
  await assert.rejects(
    provider.chat({ model: 'route', messages: [{ role: 'user', content: 'Hi' }] }, opts()),
    keelError('KEEL_UPSTREAM_MALFORMED'),
  );
});

test('aborting the signal cancels a pending request: the server sees the close, the call rejects with the reason', async (t) => {
  const { handler, requestArrived, connectionClosed } = neverAnswers();
  const { provider } = await setup(t, handler);
  const controller = new AbortController();
  const call = provider.chat(
    { model: 'route', messages: [{ role: 'user', content: 'Hi' }] },
    opts(controller.signal),
  );
  await requestArrived;
  const reason = new KeelError('KEEL_DEADLINE_EXCEEDED', 'deadline passed');
  controller.abort(reason);
  await rejectsWith(call, reason);
  await connectionClosed;
});

test('aborting mid-stream stops the stream with the reason and closes the connection', async (t) => {
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const { provider } = await setup(t, (_req, res) => {
    res.on('close', () => closed());
    startSse(res);
    res.write(
      messageStart() +
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Once upon' } }),
    ); // and then nothing more
  });
  const controller = new AbortController();
  const stream = provider.stream(
    { model: 'route', messages: [{ role: 'user', content: 'Tell a story' }] },
    opts(controller.signal),
  );
  const seen: ChatChunk[] = [];
  const reason = new KeelError('KEEL_STREAM_STALLED', 'no chunk for 5000ms');
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) {
        seen.push(chunk);
        if (content(seen) === 'Once upon') controller.abort(reason);
      }
    })(),
    (err) => {
      assert.equal(err, reason);
      return true;
    },
  );
  assert.equal(content(seen), 'Once upon');
  await connectionClosed;
});

test('a consumer that stops reading early closes the upstream connection', async (t) => {
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const { provider } = await setup(t, (_req, res) => {
    res.on('close', () => closed());
    startSse(res);
    res.write(
      messageStart() +
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'First' } }),
    ); // keeps the stream open
  });
  const seen: ChatChunk[] = [];
  for await (const chunk of provider.stream(
    { model: 'route', messages: [{ role: 'user', content: 'Hi' }] },
    opts(),
  )) {
    seen.push(chunk);
    if (content(seen) === 'First') break;
  }
  assert.equal(content(seen), 'First');
  await connectionClosed;
});
