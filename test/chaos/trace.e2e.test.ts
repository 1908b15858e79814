import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayFromYaml, waitForTrace } from '../helpers/gateway.ts';

test('an attempt made while a fault is injected says so in its trace span', async () => {
  const gw = await gatewayFromYaml(`
chaos: { enabled: true }
providers: { sim: { type: simulated } }
models:
  primary: { provider: sim, model: p, simulate: { ttftMs: { p50: 0, p99: 0 } } }
  backup: { provider: sim, model: b, simulate: { ttftMs: { p50: 0, p99: 0 } } }
routes:
  chat: { targets: [{ model: primary, retry: { max: 0 } }, { model: backup }] }
`);
  try {
    const inject = await fetch(`${gw.url}/admin/chaos/inject`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'primary', errorRate: 1, status: 503 }),
    });
    assert.equal(inject.status, 200, await inject.clone().text());
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-keel-target'), 'backup');
    const id = res.headers.get('x-request-id');
    const trace = await waitForTrace(gw, String(id));
    assert.equal(trace.spans[0]?.target, 'primary');
    assert.match(trace.spans[0]?.chaos ?? '', /503/);
    assert.equal(trace.spans[1]?.chaos, undefined);
  } finally {
    await gw.close();
  }
});
