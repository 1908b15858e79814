import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml, twoTargetYaml } from '../helpers/gateway.ts';
import { type Behaviour, type MockUpstream, startMockUpstream, waitFor } from '../helpers/mock-upstream.ts';

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('streaming', () => {
  let primaryBehaviour: Behaviour = { kind: 'ok' };
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gateway: Gateway;
  let client: OpenAI;

  before(async () => {
    primary = await startMockUpstream(() => primaryBehaviour, { name: 'primary' });
    backup = await startMockUpstream(() => ({ kind: 'ok', text: 'steady streamed answer' }), {
      name: 'backup',
    });
    gateway = await gatewayFromYaml(
      twoTargetYaml(primary.url, backup.url, {
        breaker: '{ failureRate: 0.99, window: 100, minCalls: 100 }',
      }),
    );
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await primary.close();
    await backup.close();
  });

  const beforeFirstByte: Array<[string, Behaviour]> = [
    ['500', { kind: 'status', status: 500 }],
    ['429', { kind: 'status', status: 429 }],
    ['a hang (first-token timeout)', { kind: 'hang' }],
    ['garbage as its first event', { kind: 'garbage' }],
    ['a cut before any chunk', { kind: 'cut', afterChunks: -1 }],
  ];
  for (const [name, behaviour] of beforeFirstByte) {
    test(`primary fails before the first byte with ${name}: the client sees only the backup's stream`, async () => {
      primaryBehaviour = behaviour;
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      assert.equal(response.headers.get('x-keel-target'), 'backup');
      assert.equal(response.headers.get('x-keel-decision'), 'fallback');
      assert.equal((await collect(stream)).trim(), 'steady streamed answer');
    });
  }

  test('a healthy stream arrives whole and ends with [DONE]', async () => {
    primaryBehaviour = { kind: 'ok', text: 'one two three' };
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.match(text, /"content":"three "/);
  });

  test('a stream cut mid-answer is an error to the openai client, never a short success', async () => {
    primaryBehaviour = { kind: 'cut', afterChunks: 2 };
    const stream = await client.chat.completions.create({
      model: 'chat',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let received = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
      })(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
        assert.match(err.message, /incomplete|cut|ended/i);
        return true;
      },
    );
    assert.equal(received, 'part0 part1 ', 'what arrived before the cut was delivered');
  });

  test('the raw stream after a cut: an error event, no [DONE], connection closed', async () => {
    primaryBehaviour = { kind: 'cut', afterChunks: 1 };
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    assert.ok(!text.includes('[DONE]'));
    const events = text.trim().split('\n\n');
    const last = JSON.parse(events.at(-1)!.replace(/^data: /, '')) as {
      error: { code: string; type: string };
    };
    assert.equal(last.error.code, 'KEEL_STREAM_CUT');
    assert.equal(last.error.type, 'api_error');
  });

  test('a stream that stalls after its first chunk fails with a stall error within the stall timeout', async () => {
    primaryBehaviour = { kind: 'stall', afterChunks: 1 };
    const started = Date.now();
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    const elapsed = Date.now() - started;
    assert.match(text, /"code":"KEEL_STREAM_STALLED"/);
    assert.ok(!text.includes('[DONE]'));
    assert.ok(elapsed >= 280 && elapsed < 1500, `stall detected after ${elapsed} ms (stallTimeoutMs 300)`);
  });

  test('a client that walks away mid-stream cancels the upstream request', async () => {
    primaryBehaviour = { kind: 'stall', afterChunks: 1 };
    const n = primary.received.length;
    const controller = new AbortController();
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    assert.ok(
      await waitFor(() => primary.received[n]?.closedEarly === true),
      'Keel closed the upstream request',
    );
  });
});
