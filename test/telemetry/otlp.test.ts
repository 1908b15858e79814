import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type OtlpAttribute,
  OtlpExporter,
  type OtlpSpan,
  type OtlpTracesRequest,
  otlpIds,
  SPAN_KIND,
  STATUS_CODE,
  unixNano,
} from '../../src/telemetry/otlp.ts';
import type { Span, Trace } from '../../src/telemetry/trace.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: OtlpTracesRequest;
}

/** A tiny OTLP/HTTP receiver: collects JSON bodies, answers `status`. */
async function receiver(status = 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTracesRequest,
      });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{}' : '{"error":"nope"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, received, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

const T0 = 1_700_000_000_000;

function span(over: Partial<Span> & Pick<Span, 'target'>): Span {
  return {
    provider: 'openai',
    reason: 'primary',
    retry: 0,
    outcome: 'ok',
    startedAt: T0,
    latencyMs: 100,
    tokensIn: 0,
    tokensOut: 0,
    tokensCached: 0,
    estimated: false,
    costUsd: 0,
    ...over,
  };
}

const request = {
  model: 'chat',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Mail <EMAIL_1> the summary' },
  ],
};
const response = {
  id: 'chatcmpl-1',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Done.' }, finish_reason: 'stop' }],
};

/** Primary failed with a 503, the fallback answered. */
const fallback: Trace = {
  id: 'req_fallback_1',
  startedAt: T0,
  endedAt: T0 + 1500,
  durationMs: 1500,
  endpoint: 'chat',
  stream: false,
  route: 'chat',
  status: 200,
  outcome: 'ok',
  decision: 'fallback',
  decisionPath: ['primary failed: KEEL_UPSTREAM_ERROR', 'fell back to backup'],
  target: 'backup',
  upstreamModel: 'claude-x-20250101',
  tokensIn: 12,
  tokensOut: 3,
  tokensCached: 0,
  estimated: false,
  costUsd: 0.0021,
  spans: [
    span({
      target: 'gpt',
      outcome: 'error',
      latencyMs: 300,
      errorCode: 'KEEL_UPSTREAM_ERROR',
      errorMessage: 'upstream answered 503',
      upstreamStatus: 503,
    }),
    span({
      target: 'backup',
      provider: 'anthropic',
      upstreamModel: 'claude-x-20250101',
      reason: 'fallback',
      startedAt: T0 + 310,
      latencyMs: 1190,
      tokensIn: 12,
      tokensOut: 3,
      costUsd: 0.0021,
    }),
  ],
  slots: {},
  request,
  response,
};

/** Every target failed; one was skipped (breaker open). */
const failed: Trace = {
  id: 'req_failed_2',
  startedAt: T0 + 5000,
  endedAt: T0 + 5040.5,
  durationMs: 40.5,
  endpoint: 'chat',
  stream: true,
  route: 'chat',
  status: 503,
  outcome: 'error',
  errorCode: 'KEEL_ALL_TARGETS_FAILED',
  errorMessage: 'every target failed',
  decision: 'error',
  decisionPath: [],
  tokensIn: 0,
  tokensOut: 0,
  tokensCached: 0,
  estimated: false,
  costUsd: 0,
  spans: [
    span({
      target: 'gpt',
      startedAt: T0 + 5000,
      outcome: 'error',
      latencyMs: 40,
      errorCode: 'KEEL_PROVIDER_TIMEOUT',
    }),
    span({ target: 'backup', startedAt: T0 + 5040, outcome: 'skipped', latencyMs: 0 }),
  ],
  slots: {},
  request,
};

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(
    span.attributes.map((a: OtlpAttribute) => [a.key, Object.values(a.value)[0]] as [string, unknown]),
  );
}

describe('OtlpExporter', () => {
  let ok: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    ok = await receiver();
  });
  after(() => close(ok.server));

  it('posts GenAI spans: a SERVER root per trace and a CLIENT child per attempt', async () => {
    ok.received.length = 0;
    const exporter = new OtlpExporter({ endpoint: ok.url, headers: { 'x-tenant': 'acme' } });
    await exporter.export([fallback, failed]);

    assert.equal(ok.received.length, 1, 'one request per batch');
    const got = ok.received[0]!;
    assert.equal(got.path, '/v1/traces');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-tenant'], 'acme');

    assert.equal(got.body.resourceSpans.length, 1);
    const rs = got.body.resourceSpans[0]!;
    assert.deepEqual(rs.resource.attributes, [{ key: 'service.name', value: { stringValue: 'keel' } }]);
    const spans = rs.scopeSpans[0]!.spans;
    assert.deepEqual(
      spans.map((s) => s.name),
      ['chat chat', 'chat gpt', 'chat claude-x-20250101', 'chat chat', 'chat gpt'],
      'skipped attempts are not exported; a child is named after the upstream model when known',
    );

    // Ids: deterministic from the trace id, hex of the right length, children point at their root.
    const [root, first, second, root2, only] = spans as [OtlpSpan, OtlpSpan, OtlpSpan, OtlpSpan, OtlpSpan];
    const ids = otlpIds('req_fallback_1');
    assert.equal(root.traceId, ids.traceId);
    assert.equal(root.spanId, ids.rootSpanId);
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    for (const s of spans) assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.equal(root.parentSpanId, undefined);
    for (const child of [first, second]) {
      assert.equal(child.traceId, root.traceId);
      assert.equal(child.parentSpanId, root.spanId);
    }
    assert.notEqual(first.spanId, second.spanId);
    assert.notEqual(root2.traceId, root.traceId);
    assert.equal(only.parentSpanId, root2.spanId);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length);

    // Root: SERVER, request model is the route, response model the upstream's, usage, Keel's decision.
    assert.equal(root.kind, SPAN_KIND.SERVER);
    assert.equal(root.startTimeUnixNano, '1700000000000000000');
    assert.equal(root.endTimeUnixNano, '1700000001500000000');
    assert.deepEqual(root.status, { code: STATUS_CODE.UNSET });
    const r = attrs(root);
    assert.equal(r['gen_ai.operation.name'], 'chat');
    assert.equal(r['gen_ai.request.model'], 'chat');
    assert.equal(r['gen_ai.response.model'], 'claude-x-20250101');
    assert.equal(r['gen_ai.usage.input_tokens'], '12');
    assert.equal(r['gen_ai.usage.output_tokens'], '3');
    assert.equal(r['keel.decision'], 'fallback');
    assert.equal(r['keel.route'], 'chat');
    assert.equal(r['keel.cost_usd'], 0.0021);
    assert.equal(r['error.type'], undefined);
    assert.equal(r['gen_ai.input.messages'], undefined, 'no bodies unless includeBodies');
    assert.equal(r['gen_ai.output.messages'], undefined);

    // Attempts: CLIENT, provider, the model asked for and the model that answered, reason, retry, error.
    assert.equal(first.kind, SPAN_KIND.CLIENT);
    const a1 = attrs(first);
    assert.equal(a1['gen_ai.operation.name'], 'chat');
    assert.equal(a1['gen_ai.provider.name'], 'openai');
    assert.equal(a1['gen_ai.request.model'], 'gpt');
    assert.equal(a1['gen_ai.response.model'], undefined);
    assert.equal(a1['keel.attempt.reason'], 'primary');
    assert.equal(a1['keel.attempt.retry'], '0');
    assert.equal(a1['error.type'], 'KEEL_UPSTREAM_ERROR');
    assert.equal(a1['http.response.status_code'], '503');
    assert.deepEqual(first.status, { code: STATUS_CODE.ERROR, message: 'upstream answered 503' });
    assert.equal(first.endTimeUnixNano, '1700000000300000000');

    const a2 = attrs(second);
    assert.equal(a2['gen_ai.provider.name'], 'anthropic');
    assert.equal(a2['gen_ai.request.model'], 'backup');
    assert.equal(a2['gen_ai.response.model'], 'claude-x-20250101');
    assert.equal(a2['gen_ai.usage.input_tokens'], '12');
    assert.equal(a2['gen_ai.usage.output_tokens'], '3');
    assert.equal(a2['keel.attempt.reason'], 'fallback');
    assert.equal(a2['error.type'], undefined);
    assert.deepEqual(second.status, { code: STATUS_CODE.UNSET });
    assert.equal(second.startTimeUnixNano, '1700000000310000000');
    assert.equal(second.endTimeUnixNano, '1700000001500000000');

    // The failed request: root status ERROR with the Keel code as error.type.
    assert.deepEqual(root2.status, { code: STATUS_CODE.ERROR, message: 'every target failed' });
    assert.equal(attrs(root2)['error.type'], 'KEEL_ALL_TARGETS_FAILED');
    assert.equal(attrs(root2)['http.response.status_code'], '503');
    assert.equal(root2.endTimeUnixNano, '1700000005040500000', 'sub-millisecond times survive');
    assert.equal(attrs(root2)['gen_ai.response.model'], undefined);
    assert.deepEqual(only.status, { code: STATUS_CODE.ERROR, message: 'KEEL_PROVIDER_TIMEOUT' });
    assert.equal(attrs(only)['error.type'], 'KEEL_PROVIDER_TIMEOUT');
  });

  it('exports bodies as gen_ai.input.messages / gen_ai.output.messages only with includeBodies', async () => {
    ok.received.length = 0;
    await new OtlpExporter({ endpoint: ok.url, includeBodies: true }).export([fallback]);
    const spans = ok.received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans;
    const r = attrs(spans[0]!);
    assert.deepEqual(JSON.parse(r['gen_ai.input.messages'] as string), [
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Mail <EMAIL_1> the summary' }] },
    ]);
    assert.deepEqual(JSON.parse(r['gen_ai.output.messages'] as string), [
      { role: 'assistant', parts: [{ type: 'text', content: 'Done.' }], finish_reason: 'stop' },
    ]);
    for (const child of spans.slice(1)) {
      assert.equal(attrs(child)['gen_ai.input.messages'], undefined, 'bodies are on the request span only');
    }

    // A stream's answer is stored as one assembled message; a body of another shape goes out as is.
    ok.received.length = 0;
    await new OtlpExporter({ endpoint: ok.url, includeBodies: true }).export([
      {
        ...fallback,
        id: 'req_stream',
        stream: true,
        response: { role: 'assistant', content: 'Streamed.', finish_reason: 'length' },
      },
      {
        ...fallback,
        id: 'req_emb_body',
        endpoint: 'embeddings',
        request: { input: ['a'] },
        response: { n: 1 },
      },
    ]);
    const [streamRoot, , , embRoot] = ok.received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.deepEqual(JSON.parse(attrs(streamRoot!)['gen_ai.output.messages'] as string), [
      { role: 'assistant', parts: [{ type: 'text', content: 'Streamed.' }], finish_reason: 'length' },
    ]);
    const e = attrs(embRoot!);
    assert.equal(e['gen_ai.input.messages'], undefined);
    assert.equal(e['keel.request.body'], '{"input":["a"]}');
    assert.equal(e['keel.response.body'], '{"n":1}');
  });

  it('names embeddings spans after the operation', async () => {
    ok.received.length = 0;
    await new OtlpExporter({ endpoint: ok.url }).export([
      { ...fallback, id: 'req_emb', endpoint: 'embeddings', route: 'embed' },
    ]);
    const root = ok.received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(root.name, 'embeddings embed');
    assert.equal(attrs(root)['gen_ai.operation.name'], 'embeddings');
  });

  it('sends online evaluation scores as gen_ai.evaluation.result events on the root span', async () => {
    ok.received.length = 0;
    await new OtlpExporter({ endpoint: ok.url }).export([
      {
        ...fallback,
        id: 'req_eval',
        slots: {
          evals: [
            { name: 'judge', kind: 'judged', value: 0.75, label: 'pass', explanation: 'correct but terse' },
            { name: 'refusal', kind: 'heuristic', error: 'judge never answered in shape' },
          ],
        },
      },
    ]);
    const root = ok.received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const events = root.events ?? [];
    assert.deepEqual(
      events.map((e) => e.name),
      ['gen_ai.evaluation.result', 'gen_ai.evaluation.result'],
    );
    const judged = attrs({ attributes: events[0]!.attributes } as OtlpSpan);
    assert.equal(judged['gen_ai.evaluation.name'], 'judge');
    assert.equal(judged['gen_ai.evaluation.score.value'], 0.75);
    assert.equal(judged['gen_ai.evaluation.score.label'], 'pass');
    const failed = attrs({ attributes: events[1]!.attributes } as OtlpSpan);
    assert.equal(failed['gen_ai.evaluation.score.value'], undefined);
    assert.equal(failed['error.type'], 'evaluation_error');
  });

  it('sends nothing for an empty batch', async () => {
    ok.received.length = 0;
    await new OtlpExporter({ endpoint: ok.url }).export([]);
    assert.equal(ok.received.length, 0);
  });

  it('rejects when the receiver answers 500, or cannot be reached', async () => {
    const bad = await receiver(500);
    try {
      await assert.rejects(new OtlpExporter({ endpoint: bad.url }).export([fallback]), /HTTP 500/);
      assert.equal(bad.received.length, 1);
    } finally {
      await close(bad.server);
    }
    // The port is closed now: a network error rejects too.
    await assert.rejects(new OtlpExporter({ endpoint: bad.url, timeoutMs: 1000 }).export([fallback]));
  });

  it('converts epoch milliseconds to exact nanosecond strings', () => {
    assert.equal(unixNano(T0), '1700000000000000000');
    assert.equal(unixNano(T0 + 0.25), '1700000000000250000');
    assert.equal(unixNano(0), '0');
  });
});
