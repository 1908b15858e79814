/**
 * The prompt and review admin routes inside Keel's real Fastify app (JSON-only, its own error and
 * not-found handlers), registered the way the gateway registers the other admin routes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { MemoryPromptStore } from '../../src/prompts/memory-store.ts';
import { PromptRegistry } from '../../src/prompts/registry.ts';
import { createProviders } from '../../src/providers/registry.ts';
import { MemoryReviewStore } from '../../src/review/memory-store.ts';
import { Router } from '../../src/router/router.ts';
import { buildApp } from '../../src/server/app.ts';
import { adminGuard } from '../../src/server/control-admin.ts';
import { registerPromptAdmin } from '../../src/server/prompts-admin.ts';
import { registerReviewAdmin } from '../../src/server/review-admin.ts';
import { SUPPORT_V1 } from './fixtures.ts';

test('inside the gateway app: YAML pushes work, other routes stay JSON-only, errors keep their shape', async () => {
  const config = parseConfig(`
providers: { sim: { type: simulated } }
models: { local: { provider: sim, model: local } }
routes: { chat: { targets: [{ model: local }] } }
telemetry: { store: { type: memory } }
control: { store: { type: memory } }
`);
  const router = new Router(config, { providers: createProviders(config, { env: {} }) });
  const app = buildApp({ live: { config, router }, logger: false });
  const guard = adminGuard('k');
  registerPromptAdmin(app, { registry: new PromptRegistry(new MemoryPromptStore()), guard });
  registerReviewAdmin(app, { store: new MemoryReviewStore(), guard });
  await app.ready();
  const auth = { authorization: 'Bearer k' };

  const pushed = await app.inject({
    method: 'POST',
    url: '/admin/prompts',
    headers: { ...auth, 'content-type': 'application/yaml' },
    payload: SUPPORT_V1,
  });
  assert.equal(pushed.statusCode, 201, pushed.body);
  assert.equal(pushed.headers['x-request-id'] !== undefined, true);

  const yamlElsewhere = await app.inject({
    method: 'POST',
    url: '/admin/review',
    headers: { ...auth, 'content-type': 'application/yaml' },
    payload: 'reason: flagged',
  });
  assert.equal(yamlElsewhere.statusCode, 415);
  assert.equal(yamlElsewhere.json().error.code, 'KEEL_UNSUPPORTED_MEDIA_TYPE');

  const missing = await app.inject({ method: 'GET', url: '/admin/prompts/nope', headers: auth });
  assert.deepEqual(missing.json(), {
    error: { message: 'no prompt "nope"', type: 'not_found_error', param: 'ref', code: 'KEEL_NOT_FOUND' },
  });
  await app.close();
  await router.close();
});
