import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { Client } from 'undici';
import { gatewayFromYaml } from '../helpers/gateway.ts';

const yaml = `
providers: { sim: { type: simulated } }
models: { m: { provider: sim, model: m, simulate: { ttftMs: { p50: 300, p99: 300 } } } }
routes:
  chat: { targets: [{ model: m }] }
`;

const body = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });

describe('shutdown: requests in flight finish, new ones get a clear 503', () => {
  // A content-length body takes the chat fast path; a chunked one goes through Fastify.
  for (const framing of ['content-length', 'chunked'] as const) {
    test(`a keep-alive connection during close (${framing})`, async () => {
      const gateway = await gatewayFromYaml(yaml);
      const client = new Client(gateway.url);
      try {
        const send = () =>
          client.request({
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { 'content-type': 'application/json', 'x-request-id': 'req_shutdown' },
            body: framing === 'content-length' ? body : Readable.from([body], { objectMode: false }),
          });
        const inFlight = send();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const closed = gateway.close();

        const answered = await inFlight;
        assert.equal(answered.statusCode, 200);
        const completion = (await answered.body.json()) as { choices: unknown[] };
        assert.equal(completion.choices.length, 1);

        const refused = await send();
        assert.equal(refused.statusCode, 503);
        assert.equal(refused.headers.connection, 'close');
        assert.equal(refused.headers['x-request-id'], 'req_shutdown');
        assert.deepEqual(await refused.body.json(), {
          error: {
            message: 'the gateway is shutting down; retry on another replica',
            type: 'service_unavailable',
            param: null,
            code: 'KEEL_SHUTTING_DOWN',
          },
        });
        await closed;
      } finally {
        await client.destroy();
      }
    });
  }
});
