import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { renderTrace } from '../../src/cli/traces.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import type { TracePage } from '../../src/store/trace-store.ts';
import { gatewayFromYaml, waitForTrace } from '../helpers/gateway.ts';
import { type Behaviour, type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';

const EMAIL = 'jane.doe@example.org';
const CARD = '4111 1111 1111 1111';
const SECRET = 'sk-proj-Zx8QvT3mN9pL2wR7yB4kH6jD1fG5sA0c';

/** The primary's behaviour is chosen by a marker in the last user message. */
function byMarker(body: Record<string, unknown>): Behaviour {
  const messages = body.messages as Array<{ content: string }>;
  const text = messages.at(-1)?.content ?? '';
  if (text.includes('[fail]')) return { kind: 'status', status: 500 };
  if (text.includes('[cut]')) return { kind: 'cut', afterChunks: 2 };
  if (text.includes('[slow]')) return { kind: 'ok', delayMs: 400, text: 'slow answer' };
  return { kind: 'ok', text: `reply to ${EMAIL}` };
}

describe('traces: every answer explainable, no raw PII stored', () => {
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gateway: Gateway;
  let client: OpenAI;
  let dbPath: string;
  let retryCalls = 0;

  before(async () => {
    primary = await startMockUpstream((_n, body) => byMarker(body), { name: 'primary' });
    backup = await startMockUpstream(
      (_n, body) => {
        const text = (body.messages as Array<{ content: string }>).at(-1)?.content ?? '';
        if (text.includes('[retry]') && retryCalls++ === 0) return { kind: 'status', status: 503 };
        return { kind: 'ok', text: 'backup answer' };
      },
      { name: 'backup' },
    );
    dbPath = join(mkdtempSync(join(tmpdir(), 'keel-traces-')), 'keel.db');
    gateway = await gatewayFromYaml(`
breaker: { failureRate: 0.99, window: 100, minCalls: 100 }
telemetry: { store: { type: sqlite, path: "${dbPath}" }, queue: { flushMs: 50 } }
providers:
  up1: { type: openai, baseUrl: "${primary.url}" }
  up2: { type: openai, baseUrl: "${backup.url}" }
models:
  primary: { provider: up1, model: primary-model, pricing: { inputPerMTok: 2, outputPerMTok: 8 } }
  backup: { provider: up2, model: backup-model, pricing: { inputPerMTok: 1, outputPerMTok: 4 } }
routes:
  chat:
    deadlineMs: 3000
    targets:
      - { model: primary, timeoutMs: 1000, retry: { max: 0 } }
      - { model: backup, timeoutMs: 1000, retry: { max: 1, baseDelayMs: 1, maxDelayMs: 1 } }
  hedged:
    hedgeAfterMs: 100
    targets:
      - { model: primary, timeoutMs: 1000, retry: { max: 0 } }
      - { model: backup, timeoutMs: 1000, retry: { max: 0 } }
`);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await primary.close();
    await backup.close();
  });

  async function ask(content: string, options: { route?: string; stream?: boolean; user?: string } = {}) {
    const headers = { 'x-keel-session': 'sess-42', ...(options.user ? { 'x-keel-user': options.user } : {}) };
    if (options.stream) {
      const { data, response } = await client.chat.completions
        .create(
          { model: options.route ?? 'chat', stream: true, messages: [{ role: 'user', content }] },
          { headers },
        )
        .withResponse();
      try {
        for await (const _ of data) {
          // drain
        }
      } catch {
        // the cut stream fails; its trace is what this test reads
      }
      return response.headers.get('x-request-id')!;
    }
    const { response } = await client.chat.completions
      .create({ model: options.route ?? 'chat', messages: [{ role: 'user', content }] }, { headers })
      .withResponse();
    return response.headers.get('x-request-id')!;
  }

  const trace = (id: string) => waitForTrace(gateway, id);

  test('a fallback: two spans, the decision path says why, cost is the backup’s', async () => {
    const id = await ask('please help [fail]', { user: 'u-1' });
    const t = await trace(id);
    assert.equal(t.decision, 'fallback');
    assert.equal(t.target, 'backup');
    assert.equal(t.upstreamModel, 'backup-model');
    assert.equal(t.user, 'u-1');
    assert.equal(t.session, 'sess-42');
    assert.deepEqual(
      t.spans.map(
        (s) => `${s.reason}:${s.target}:${s.outcome}:${s.errorCode ?? ''}:${s.upstreamStatus ?? ''}`,
      ),
      ['primary:primary:error:KEEL_UPSTREAM_ERROR:500', 'fallback:backup:ok::'],
    );
    assert.match(
      t.decisionPath.join('\n'),
      /primary → primary: KEEL_UPSTREAM_ERROR[\s\S]*fallback → backup: ok[\s\S]*answered by backup \(fallback\)/,
    );
    // mock usage: 5 in, 3 out at $1/$4 per 1M
    assert.equal(t.tokensIn, 5);
    assert.equal(t.tokensOut, 3);
    assert.ok(Math.abs(t.costUsd - (5 * 1 + 3 * 4) / 1e6) < 1e-12);
    const shown = renderTrace(t);
    assert.match(shown, /decision path:/);
    assert.match(shown, /fallback → backup \(up2\): ok/);
  });

  test('a retry on the backup is a span with reason retry', async () => {
    retryCalls = 0;
    const id = await ask('again [fail] [retry]');
    const t = await trace(id);
    assert.deepEqual(
      t.spans.map((s) => `${s.reason}:${s.target}:${s.retry}:${s.outcome}`),
      ['primary:primary:0:error', 'fallback:backup:0:error', 'retry:backup:1:ok'],
    );
    assert.equal(t.decision, 'retry');
  });

  test('a hedge: the slow primary is cancelled, the hedge wins', async () => {
    const id = await ask('quick [slow]', { route: 'hedged' });
    const t = await trace(id);
    assert.equal(t.decision, 'hedge');
    assert.deepEqual(
      t.spans.map((s) => `${s.reason}:${s.target}:${s.outcome}`),
      ['primary:primary:cancelled', 'hedge:backup:ok'],
    );
  });

  test('a stream cut after the first byte: status 200 sent, but the trace says error and why', async () => {
    const id = await ask('stream it [cut]', { stream: true });
    const t = await trace(id);
    assert.equal(t.status, 200);
    assert.equal(t.outcome, 'error');
    assert.equal(t.errorCode, 'KEEL_STREAM_CUT');
    assert.match(t.decisionPath.at(-1) ?? '', /stream broke after the first byte: KEEL_STREAM_CUT/);
    assert.equal(t.spans[0]?.outcome, 'error');
    assert.ok(t.estimated, 'no usage from a cut stream: tokens are estimated');
    assert.ok(t.tokensOut > 0);
  });

  test('list filters and stats answer from the store', async () => {
    await gateway.telemetry.recorder.drain();
    const page = (await (
      await fetch(`${gateway.url}/admin/traces?decision=fallback&route=chat`)
    ).json()) as TracePage;
    assert.ok(page.traces.length >= 1);
    assert.ok(page.traces.every((t) => t.decision === 'fallback' && t.route === 'chat'));
    const stats = (await (await fetch(`${gateway.url}/admin/stats?window=1h`)).json()) as {
      total: { requests: number };
      routes: Array<{ name: string }>;
    };
    assert.ok(stats.total.requests >= 4);
    assert.deepEqual(stats.routes.map((r) => r.name).sort(), ['chat', 'hedged']);
    const bad = await fetch(`${gateway.url}/admin/traces?limit=100000`);
    assert.equal(bad.status, 400);
  });

  test('metrics expose requests by route, target, status and decision', async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(
      text,
      /keel_requests_total\{route="chat",target="backup",status="200",decision="fallback"\} \d+/,
    );
    assert.match(text, /keel_breaker_state\{target="primary"\} 0/);
    assert.match(text, /keel_trace_queue_depth \d+/);
  });

  test('PII sent by the client and returned by the model never reaches the SQLite file', async () => {
    const id = await ask(`My email is ${EMAIL}, card ${CARD}, key ${SECRET}`);
    const t = await trace(id);
    const stored = JSON.stringify(t);
    assert.ok(!stored.includes(EMAIL) && !stored.includes(CARD) && !stored.includes(SECRET));
    assert.match(stored, /<EMAIL_1>/);
    assert.match(stored, /<CARD_1>/);
    assert.match(stored, /<SECRET_1>/);
    const search = (await (await fetch(`${gateway.url}/admin/traces?text=EMAIL_1`)).json()) as TracePage;
    assert.ok(
      search.traces.some((s) => s.id === id),
      'redacted bodies are searchable',
    );
    await gateway.telemetry.recorder.drain();
    for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const raw of [EMAIL, CARD, SECRET, CARD.replaceAll(' ', '')]) {
        assert.equal(bytes.indexOf(raw), -1, `${raw} found in ${file}`);
      }
    }
  });
});
