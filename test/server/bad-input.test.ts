import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml, waitForTrace } from '../helpers/gateway.ts';

const yaml = `
server: { bodyLimitBytes: 2048 }
providers: { sim: { type: simulated } }
models: { m: { provider: sim, model: m, simulate: { ttftMs: { p50: 0, p99: 0 } } } }
routes:
  chat: { targets: [{ model: m }] }
`;

interface Case {
  name: string;
  body: string;
  headers?: Record<string, string>;
  method?: string;
  path?: string;
  status: number;
  code: string;
  message: RegExp;
}

const msgs = '[{"role":"user","content":"hi"}]';

const cases: Case[] = [
  {
    name: 'invalid JSON',
    body: '{"model":"chat",',
    status: 400,
    code: 'KEEL_INVALID_JSON',
    message: /not valid JSON/,
  },
  { name: 'empty body', body: '', status: 400, code: 'KEEL_INVALID_JSON', message: /empty/ },
  { name: 'a JSON array', body: '[1,2]', status: 400, code: 'KEEL_INVALID_REQUEST', message: /JSON object/ },
  {
    name: 'a JSON string',
    body: '"hello"',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /JSON object/,
  },
  {
    name: 'missing messages',
    body: '{"model":"chat"}',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^messages: required \(expected array\)/,
  },
  {
    name: 'messages of the wrong type',
    body: '{"model":"chat","messages":"hi"}',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^messages: expected array, got string/,
  },
  {
    name: 'empty messages',
    body: '{"model":"chat","messages":[]}',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /messages: must contain at least one message/,
  },
  {
    name: 'an unknown role',
    body: '{"model":"chat","messages":[{"role":"wizard","content":"x"}]}',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /messages\[0\]\.role/,
  },
  {
    name: 'a tool message without tool_call_id',
    body: '{"model":"chat","messages":[{"role":"tool","content":"x"}]}',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /messages\[0\]\.tool_call_id: required/,
  },
  {
    name: 'missing model',
    body: `{"messages":${msgs}}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^model: required/,
  },
  {
    name: 'a number as model',
    body: `{"model":42,"messages":${msgs}}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^model: expected string, got number/,
  },
  {
    name: 'temperature as a string (no coercion)',
    body: `{"model":"chat","messages":${msgs},"temperature":"0.5"}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^temperature: expected number, got string/,
  },
  {
    name: 'temperature out of range',
    body: `{"model":"chat","messages":${msgs},"temperature":7}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^temperature: /,
  },
  {
    name: 'stream as a string',
    body: `{"model":"chat","messages":${msgs},"stream":"yes"}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^stream: expected boolean, got string/,
  },
  {
    name: 'max_tokens negative',
    body: `{"model":"chat","messages":${msgs},"max_tokens":-5}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^max_tokens: /,
  },
  {
    name: 'max_tokens fractional',
    body: `{"model":"chat","messages":${msgs},"max_tokens":1.5}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^max_tokens: /,
  },
  {
    name: 'tools not an array',
    body: `{"model":"chat","messages":${msgs},"tools":{}}`,
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^tools: expected array/,
  },
  {
    name: 'an unknown route',
    body: `{"model":"gpt-5-ultra","messages":${msgs}}`,
    status: 404,
    code: 'KEEL_UNKNOWN_ROUTE',
    message: /model "gpt-5-ultra" is not a route of this gateway; routes: "chat"/,
  },
  {
    name: 'a body over the size limit',
    body: `{"model":"chat","messages":[{"role":"user","content":"${'x'.repeat(4000)}"}]}`,
    status: 413,
    code: 'KEEL_BODY_TOO_LARGE',
    message: /exceeds the limit of 2048 bytes/,
  },
  {
    name: 'a text/plain body',
    body: `{"model":"chat","messages":${msgs}}`,
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'KEEL_UNSUPPORTED_MEDIA_TYPE',
    message: /application\/json/,
  },
  {
    name: 'a __proto__ key',
    body: `{"model":"chat","messages":${msgs},"__proto__":{"admin":true}}`,
    status: 400,
    code: 'KEEL_INVALID_JSON',
    message: /not valid JSON/,
  },
  {
    name: 'an unknown path',
    body: '{}',
    path: '/v1/completions-legacy',
    status: 404,
    code: 'KEEL_NOT_FOUND',
    message: /no route for POST/,
  },
  {
    name: 'GET on the chat endpoint',
    body: '',
    method: 'GET',
    status: 405,
    code: 'KEEL_METHOD_NOT_ALLOWED',
    message: /GET \/v1\/chat\/completions/,
  },
  {
    name: 'embeddings without input',
    body: '{"model":"chat"}',
    path: '/v1/embeddings',
    status: 400,
    code: 'KEEL_INVALID_REQUEST',
    message: /^input: /,
  },
];

/** A body sent with a content-length (the chat fast path) or chunked (Fastify's path): same answers. */
function bodyOf(text: string, framing: 'content-length' | 'chunked') {
  if (framing === 'content-length') return { body: text };
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return { body: stream, duplex: 'half' as const };
}

describe('bad input gets a 4xx in OpenAI’s error shape naming the problem', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await gatewayFromYaml(yaml);
  });
  after(() => gateway.close());

  for (const framing of ['content-length', 'chunked'] as const) {
    for (const c of cases) {
      test(`${c.name} (${framing})`, async () => {
        const method = c.method ?? 'POST';
        const res = await fetch(`${gateway.url}${c.path ?? '/v1/chat/completions'}`, {
          method,
          headers: { 'content-type': 'application/json', ...c.headers },
          ...(method === 'GET' ? {} : bodyOf(c.body, framing)),
        });
        const body = (await res.json()) as {
          error: { message: string; type: string; code: string; param: unknown };
        };
        assert.equal(res.status, c.status, JSON.stringify(body));
        assert.equal(body.error.code, c.code);
        assert.match(body.error.message, c.message);
        assert.equal(typeof body.error.type, 'string');
        assert.ok(!/at .*\.ts:\d+/.test(body.error.message), 'no stack trace');
        assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
      });
    }
  }

  test('both framings answer a bad request byte for byte alike', async () => {
    for (const c of cases) {
      if (c.method === 'GET') continue;
      const answers = [];
      for (const framing of ['content-length', 'chunked'] as const) {
        const res = await fetch(`${gateway.url}${c.path ?? '/v1/chat/completions'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...c.headers },
          ...bodyOf(c.body, framing),
        });
        answers.push({
          status: res.status,
          type: res.headers.get('content-type'),
          connection: res.headers.get('connection'),
          body: await res.text(),
        });
      }
      assert.deepEqual(answers[0], answers[1], c.name);
    }
  });

  test('the gateway still serves after every bad request', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"chat","messages":${msgs}}`,
    });
    assert.equal(res.status, 200);
  });

  test('unknown request fields pass through rather than failing (new OpenAI parameters)', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"chat","messages":${msgs},"reasoning_effort":"low","metadata":{"a":"b"}}`,
    });
    assert.equal(res.status, 200);
  });

  test('a multi-byte character split across two packets is read whole', async () => {
    const text = 'héllo wörld ✓';
    const body = Buffer.from(JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: text }] }));
    const cut = body.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
    const { port } = new URL(gateway.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.includes('\r\n\r\n') && /"choices"/.test(received)) socket.end();
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
          `x-request-id: req_split\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, cut));
      setTimeout(() => socket.write(body.subarray(cut)), 50);
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const trace = await waitForTrace(gateway, 'req_split');
    const request = trace.request as { messages: Array<{ content: string }> };
    assert.equal(request.messages[0]?.content, text);
  });
});
