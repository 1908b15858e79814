import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { gatewayFromYaml, twoTargetYaml } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

const simYaml = `
providers: { sim: { type: simulated } }
models:
  m: { provider: sim, model: sim-m, simulate: { ttftMs: { p50: 0, p99: 0 }, reply: "fixed reply text" } }
routes:
  chat: { description: "the chat route", targets: [{ model: m }] }
  embed: { targets: [{ model: m }] }
`;

describe('OpenAI-compatible surface', () => {
  test('models lists the routes; healthz is live', async () => {
    const gateway = await gatewayFromYaml(simYaml);
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x' });
      const models = await client.models.list();
      assert.deepEqual(
        models.data.map((m) => m.id),
        ['chat', 'embed'],
      );
      const health = await fetch(`${gateway.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
    } finally {
      await gateway.close();
    }
  });

  test('embeddings through a route', async () => {
    const gateway = await gatewayFromYaml(simYaml);
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x' });
      const res = await client.embeddings.create({
        model: 'embed',
        input: ['alpha', 'beta', 'alpha'],
        encoding_format: 'float',
      });
      assert.equal(res.data.length, 3);
      assert.equal(res.data[0]?.embedding.length, 16);
      assert.deepEqual(res.data[0]?.embedding, res.data[2]?.embedding, 'equal inputs embed equally');
      assert.notDeepEqual(res.data[0]?.embedding, res.data[1]?.embedding);
    } finally {
      await gateway.close();
    }
  });

  test('tools and tool_calls pass through, response_format reaches the upstream', async () => {
    const upstream = await startMockUpstream(() => ({ kind: 'ok', text: '{"a":1}' }));
    const gateway = await gatewayFromYaml(twoTargetYaml(upstream.url, upstream.url));
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const tools = [
        {
          type: 'function' as const,
          function: { name: 'lookup', parameters: { type: 'object', properties: {} } },
        },
      ];
      await client.chat.completions.create({
        model: 'chat',
        messages: [
          { role: 'user', content: 'find it' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'found' },
        ],
        tools,
        tool_choice: 'auto',
        response_format: { type: 'json_object' },
      });
      const sent = upstream.received.at(-1)?.body;
      assert.equal(sent?.model, 'primary-model', 'the route name became the upstream model name');
      assert.deepEqual(sent?.tools, tools);
      assert.deepEqual(sent?.response_format, { type: 'json_object' });
      assert.equal((sent?.messages as unknown[] | undefined)?.length, 3);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('the simulated model calls a tool when offered one', async () => {
    const gateway = await gatewayFromYaml(simYaml);
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x' });
      const res = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      });
      assert.equal(res.choices[0]?.finish_reason, 'tool_calls');
      assert.equal(res.choices[0]?.message.tool_calls?.[0]?.type, 'function');
    } finally {
      await gateway.close();
    }
  });
});

describe('readiness', () => {
  test('readyz reports each target’s breaker and turns 503 when a route has no usable target', async () => {
    const down = await startMockUpstream(() => ({ kind: 'status', status: 500 }));
    const gateway = await gatewayFromYaml(
      twoTargetYaml(down.url, down.url, {
        breaker: '{ failureRate: 0.5, window: 4, minCalls: 2, openMs: 60000 }',
      }),
    );
    try {
      const ready = await fetch(`${gateway.url}/readyz`);
      assert.equal(ready.status, 200);
      const body = { model: 'chat', messages: [{ role: 'user', content: 'x' }] };
      for (let i = 0; i < 2; i++) {
        await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      }
      const calls = down.received.length;
      const res = await fetch(`${gateway.url}/readyz`);
      assert.equal(res.status, 503);
      const report = (await res.json()) as {
        status: string;
        targets: Array<{ model: string; breaker: string }>;
      };
      assert.equal(report.status, 'unavailable');
      assert.deepEqual(
        report.targets.map((t) => `${t.model}:${t.breaker}`),
        ['primary:open', 'backup:open'],
      );
      const skipped = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(skipped.status, 503);
      assert.match(
        ((await skipped.json()) as { error: { message: string } }).error.message,
        /skipped \(breaker open\)/,
      );
      assert.equal(down.received.length, calls, 'open breakers sent nothing upstream');
    } finally {
      await gateway.close();
      await down.close();
    }
  });
});

describe('gateway key', () => {
  test('when KEEL_API_KEY is set, /v1 needs it; health does not', async () => {
    const gateway = await gatewayFromYaml(simYaml, { KEEL_API_KEY: 'sk-keel-test-secret' });
    try {
      const good = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-keel-test-secret', maxRetries: 0 });
      const res = await good.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'x' }],
      });
      assert.equal(res.choices[0]?.message.content, 'fixed reply text');
      for (const key of ['wrong', 'sk-keel-test-secreT', '']) {
        const bad = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key || 'none', maxRetries: 0 });
        await assert.rejects(bad.models.list(), (err: unknown) => {
          assert.ok(err instanceof OpenAI.AuthenticationError);
          assert.equal(err.status, 401);
          assert.doesNotMatch(err.message, /sk-keel-test-secret/);
          return true;
        });
      }
      const none = await fetch(`${gateway.url}/v1/models`);
      assert.equal(none.status, 401);
      assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
    } finally {
      await gateway.close();
    }
  });
});
