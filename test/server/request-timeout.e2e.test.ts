import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';

const yaml = `
server: { requestTimeoutMs: 400 }
providers: { sim: { type: simulated } }
models: { m: { provider: sim, model: m, simulate: { ttftMs: { p50: 0, p99: 0 } } } }
routes:
  chat: { targets: [{ model: m }] }
`;

/** Writes `parts` to a raw connection and returns all it receives until the server closes it. */
function rawExchange(url: string, parts: string[]): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.on('error', reject);
    for (const part of parts) socket.write(part);
  });
}

describe('server.requestTimeoutMs: a request that never finishes arriving gets a 408', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await gatewayFromYaml(yaml);
  });
  after(() => gateway.close());

  for (const [what, parts] of [
    ['headers that never end', ['POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n']],
    [
      'a body shorter than its content-length',
      [
        'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":',
      ],
    ],
  ] as const) {
    test(what, async () => {
      const { text, ms } = await rawExchange(gateway.url, [...parts]);
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.match(text, /\r\nconnection: close\r\n/i);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
        error: { code: string; message: string };
      };
      assert.deepEqual(body.error.code, 'KEEL_INVALID_REQUEST');
      assert.equal(body.error.message, 'the request was not received in time');
      // Node checks on an interval (a quarter of the timeout here): the 408 comes soon after 400 ms.
      assert.ok(ms >= 380 && ms < 2_000, `answered after ${ms} ms`);
    });
  }

  test('the gateway still answers a whole request', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
  });
});
