import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChaosController, type ChaosEvent } from '../../src/chaos/controller.ts';
import { describeFault, parseDuration } from '../../src/chaos/faults.ts';
import { wrapProviders, wrapWithChaos } from '../../src/chaos/wrap.ts';
import { KeelError } from '../../src/core/errors.ts';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../../src/core/types.ts';
import { statusError } from '../../src/providers/http.ts';
import type { CallOptions, Provider } from '../../src/providers/provider.ts';
import { FakeClock, flush } from '../helpers/fake-clock.ts';

const REQUEST: ChatRequest = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
const EMBED: EmbeddingRequest = { model: 'embed', input: 'hi' };

function chunk(content: string): ChatChunk {
  return {
    id: 's',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'stub',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  };
}

/** A provider that answers at once and counts its calls; its stream has five chunks. */
class StubProvider implements Provider {
  readonly type = 'stub';
  chats = 0;
  streams = 0;
  embeds = 0;
  closes = 0;
  readonly completion: ChatCompletion = {
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'stub',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  };
  lastIterable: AsyncIterable<ChatChunk> | undefined;

  chat(_request: ChatRequest, _options: CallOptions): Promise<ChatCompletion> {
    this.chats++;
    return Promise.resolve(this.completion);
  }

  stream(_request: ChatRequest, _options: CallOptions): AsyncIterable<ChatChunk> {
    this.streams++;
    this.lastIterable = (async function* () {
      for (let i = 0; i < 5; i++) yield chunk(`c${i}`);
    })();
    return this.lastIterable;
  }

  embeddings(_request: EmbeddingRequest, _options: CallOptions): Promise<EmbeddingResponse> {
    this.embeds++;
    return Promise.resolve({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [1] }],
      model: 'stub',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  }

  async close(): Promise<void> {
    this.closes++;
  }
}

function setup(random: () => number = () => 0.5) {
  const clock = new FakeClock();
  const controller = new ChaosController({ clock, random });
  const inner = new StubProvider();
  const provider = wrapWithChaos(inner, 'primary', controller);
  const abort = new AbortController();
  const options: CallOptions = { model: 'upstream', signal: abort.signal };
  return { clock, controller, inner, provider, abort, options };
}

/** Settle a promise without throwing: 'pending' if it has not settled after the queue drains. */
async function state<T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown } | 'pending'> {
  let result: { ok: T } | { err: unknown } | 'pending' = 'pending';
  p.then(
    (ok) => {
      result = { ok };
    },
    (err: unknown) => {
      result = { err };
    },
  );
  await flush();
  return result;
}

async function collect(iterable: AsyncIterable<ChatChunk>): Promise<{ chunks: string[]; error?: unknown }> {
  const chunks: string[] = [];
  try {
    for await (const c of iterable) chunks.push(String(c.choices[0]?.delta.content));
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

describe('chaos wrapper: no fault active', () => {
  test('every call goes straight to the wrapped provider: same promise value, same stream object', async () => {
    const { inner, provider, options } = setup();
    assert.equal(provider.type, 'stub');
    const pending = provider.chat(REQUEST, options);
    assert.equal(inner.chats, 1, 'the inner call starts synchronously: no extra await in between');
    assert.equal(await pending, inner.completion);
    const iterable = provider.stream(REQUEST, options);
    assert.equal(iterable, inner.lastIterable, 'the stream is not re-wrapped: no per-chunk cost');
    assert.deepEqual((await collect(iterable)).chunks, ['c0', 'c1', 'c2', 'c3', 'c4']);
    await provider.embeddings!(EMBED, options);
    assert.equal(inner.embeds, 1);
  });

  test('a fault on another target does not touch this one', async () => {
    const { controller, inner, provider, options } = setup();
    controller.inject('backup', { status: 503 });
    assert.equal(await provider.chat(REQUEST, options), inner.completion);
    assert.equal(provider.stream(REQUEST, options), inner.lastIterable);
  });

  test('the inactive path is one lookup: 200k calls add well under a microsecond each', async () => {
    const inner = new StubProvider();
    const controller = new ChaosController();
    controller.inject('other', { status: 503 });
    const provider = wrapWithChaos(inner, 'primary', controller);
    const options: CallOptions = { model: 'm', signal: new AbortController().signal };
    const time = (p: Provider) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 200_000; i++) p.stream(REQUEST, options);
      return Number(process.hrtime.bigint() - start) / 200_000;
    };
    time(inner);
    time(provider); // warm both up
    const overhead = time(provider) - time(inner);
    // Generous, so a loaded CI machine stays green; the structural test above is the real guarantee.
    assert.ok(overhead < 1000, `overhead per call ${overhead.toFixed(0)} ns`);
  });

  test('a provider without embeddings stays without them (the router picks targets by it)', () => {
    const controller = new ChaosController();
    const bare: Provider = {
      type: 'bare',
      chat: (r, o) => new StubProvider().chat(r, o),
      stream: (r, o) => new StubProvider().stream(r, o),
    };
    assert.equal(wrapWithChaos(bare, 'x', controller).embeddings, undefined);
    assert.notEqual(wrapWithChaos(new StubProvider(), 'x', controller).embeddings, undefined);
  });
});

describe('chaos wrapper: each fault kind', () => {
  test('latency is added before the call', async () => {
    const { clock, controller, inner, provider, options } = setup();
    controller.inject('primary', { latencyMs: 1000 });
    const call = provider.chat(REQUEST, options);
    await clock.advance(999);
    assert.equal(await state(call), 'pending');
    assert.equal(inner.chats, 0, 'the upstream is called only after the latency');
    await clock.advance(1);
    assert.deepEqual(await state(call), { ok: inner.completion });
  });

  test('a hang lasts until the signal aborts, and rejects with its reason', async () => {
    const { clock, controller, inner, provider, abort, options } = setup();
    controller.inject('primary', { hangRate: 1 });
    const call = provider.chat(REQUEST, options);
    await clock.advance(60_000);
    assert.equal(await state(call), 'pending');
    const reason = new KeelError('KEEL_PROVIDER_TIMEOUT', 'primary: no answer within timeoutMs');
    abort.abort(reason);
    assert.deepEqual(await state(call), { err: reason });
    assert.equal(inner.chats, 0);
  });

  test('hangRate draws per call', async () => {
    const draws = [0.05, 0.5];
    const { controller, inner, provider, options } = setup(() => draws.shift() ?? 0.99);
    controller.inject('primary', { hangRate: 0.1 });
    assert.equal(await state(provider.chat(REQUEST, options)), 'pending');
    assert.deepEqual(await state(provider.chat(REQUEST, options)), { ok: inner.completion });
  });

  test('an error is thrown as statusError would classify the upstream status', async () => {
    const { controller, inner, provider, options } = setup();
    for (const status of [503, 500, 401, 400]) {
      controller.inject('primary', { status });
      const err = await provider.chat(REQUEST, options).catch((e: unknown) => e);
      const real = statusError(status, 'x');
      assert.ok(err instanceof KeelError);
      assert.equal(err.code, real.code, `status ${status}`);
      assert.equal(err.upstreamStatus, status);
      assert.equal(err.retryable, real.retryable);
      assert.equal(err.countsForBreaker, real.countsForBreaker);
    }
    assert.equal(inner.chats, 0, 'a failed call never reaches the upstream');
  });

  test('errorRate alone fails that share of calls with 503', async () => {
    const draws = [0.1, 0.7, 0.29, 0.3];
    const { controller, provider, options } = setup(() => draws.shift()!);
    controller.inject('primary', { errorRate: 0.3 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      const r = await provider.chat(REQUEST, options).then(
        () => 'ok',
        (e: KeelError) => `${e.code} ${e.upstreamStatus}`,
      );
      outcomes.push(r);
    }
    assert.deepEqual(outcomes, ['KEEL_UPSTREAM_ERROR 503', 'ok', 'KEEL_UPSTREAM_ERROR 503', 'ok']);
    assert.equal(controller.affected('primary'), 'error 503 p=0.3');
  });

  test('rateLimit is a 429 carrying Retry-After', async () => {
    const { controller, provider, options } = setup();
    controller.inject('primary', { rateLimit: true, retryAfterMs: 1500 });
    const err = (await provider.chat(REQUEST, options).catch((e: unknown) => e)) as KeelError;
    assert.equal(err.code, 'KEEL_UPSTREAM_RATE_LIMITED');
    assert.equal(err.upstreamStatus, 429);
    assert.equal(err.retryAfterMs, 1500);
    controller.inject('primary', { rateLimit: true });
    const byDefault = (await provider.chat(REQUEST, options).catch((e: unknown) => e)) as KeelError;
    assert.equal(byDefault.retryAfterMs, 1000);
  });

  test('garbage is KEEL_UPSTREAM_MALFORMED, for chat, streams and embeddings', async () => {
    const { controller, provider, options } = setup();
    controller.inject('primary', { garbage: true });
    const chat = (await provider.chat(REQUEST, options).catch((e: unknown) => e)) as KeelError;
    assert.equal(chat.code, 'KEEL_UPSTREAM_MALFORMED');
    const stream = await collect(provider.stream(REQUEST, options));
    assert.deepEqual(stream.chunks, []);
    assert.equal((stream.error as KeelError).code, 'KEEL_UPSTREAM_MALFORMED');
    const embed = (await provider.embeddings!(EMBED, options).catch((e: unknown) => e)) as KeelError;
    assert.equal(embed.code, 'KEEL_UPSTREAM_MALFORMED');
  });

  test('a stream is cut after N chunks with KEEL_STREAM_CUT, never ends quietly', async () => {
    const { controller, inner, provider, options } = setup();
    controller.inject('primary', { cutStreamAfter: 2 });
    const { chunks, error } = await collect(provider.stream(REQUEST, options));
    assert.deepEqual(chunks, ['c0', 'c1']);
    assert.ok(error instanceof KeelError);
    assert.equal(error.code, 'KEEL_STREAM_CUT');
    assert.equal(inner.streams, 1);
    assert.equal(await provider.chat(REQUEST, options), inner.completion, 'chat calls are not cut');
    controller.inject('primary', { cutStreamAfter: 0 });
    const none = await collect(provider.stream(REQUEST, options));
    assert.deepEqual(none.chunks, []);
    assert.equal((none.error as KeelError).code, 'KEEL_STREAM_CUT');
  });

  test('a stall stops the stream after its first chunk for stallMs, and respects the signal', async () => {
    const { clock, controller, provider, abort, options } = setup();
    controller.inject('primary', { stallMs: 5000 });
    const iterator = provider.stream(REQUEST, options)[Symbol.asyncIterator]();
    assert.deepEqual(await state(iterator.next()), { ok: { done: false, value: chunk('c0') } });
    const second = iterator.next();
    await clock.advance(4999);
    assert.equal(await state(second), 'pending');
    await clock.advance(1);
    assert.deepEqual(await state(second), { ok: { done: false, value: chunk('c1') } });

    // Aborted mid-stall (the stall timeout fired): rejects with the signal's reason.
    const again = provider.stream(REQUEST, options)[Symbol.asyncIterator]();
    await again.next();
    const stalled = again.next();
    await clock.advance(100);
    const reason = new KeelError('KEEL_STREAM_STALLED', 'no chunk for 400 ms');
    abort.abort(reason);
    assert.deepEqual(await state(stalled), { err: reason });
  });

  test('embeddings get latency, hangs and errors too', async () => {
    const { clock, controller, inner, provider, options } = setup();
    controller.inject('primary', { latencyMs: 200, status: 502 });
    const call = provider.embeddings!(EMBED, options).catch((err: unknown) => err);
    await clock.advance(199);
    assert.equal(await state(call), 'pending');
    await clock.advance(1);
    assert.equal(((await call) as KeelError).code, 'KEEL_UPSTREAM_ERROR');
    assert.equal(inner.embeds, 0);
  });

  test('close closes a shared inner provider once', async () => {
    const inner = new StubProvider();
    const controller = new ChaosController();
    const wrapped = wrapProviders(
      new Map<string, Provider>([
        ['a', inner],
        ['b', inner],
      ]),
      controller,
    );
    await Promise.all([...wrapped.values()].map((p) => p.close?.()));
    assert.equal(inner.closes, 1);
  });
});

describe('chaos controller', () => {
  test('inject, list, affected, clear, with an audit event for each', () => {
    const clock = new FakeClock(5_000);
    const controller = new ChaosController({ clock });
    const events: ChaosEvent[] = [];
    controller.onChange((e) => events.push(e));
    controller.inject('primary', { errorRate: 0.3, status: 503 });
    controller.inject('backup', { latencyMs: 2000 }, 60_000);
    assert.equal(controller.affected('primary'), 'error 503 p=0.3');
    assert.equal(controller.affected('backup'), 'latency +2000ms');
    assert.equal(controller.affected('other'), undefined);
    assert.deepEqual(
      controller.list().map((f) => [f.target, f.description, f.since, f.until]),
      [
        ['primary', 'error 503 p=0.3', 5000, undefined],
        ['backup', 'latency +2000ms', 5000, 65_000],
      ],
    );
    assert.equal(controller.clear('primary'), 1);
    assert.equal(controller.clear('primary'), 0);
    assert.equal(controller.clear(), 1);
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.target}`),
      ['inject primary', 'inject backup', 'clear primary', 'clear backup'],
    );
  });

  test('a fault with a duration expires on time, with an expire event', async () => {
    const clock = new FakeClock();
    const controller = new ChaosController({ clock });
    const events: string[] = [];
    controller.onChange((e) => events.push(e.type));
    controller.inject('primary', { status: 503 }, 1000);
    await clock.advance(999);
    assert.equal(controller.affected('primary'), 'error 503');
    await clock.advance(1);
    assert.equal(controller.affected('primary'), undefined);
    assert.deepEqual(events, ['inject', 'expire']);
    assert.deepEqual(controller.list(), []);
  });

  test('`until` in the fault works like a duration; a new inject replaces the old fault', async () => {
    const clock = new FakeClock(10_000);
    const controller = new ChaosController({ clock });
    controller.inject('primary', { status: 500, until: 12_000 });
    controller.inject('primary', { garbage: true });
    await clock.advance(5000);
    assert.equal(
      controller.affected('primary'),
      'garbage',
      'the replaced fault’s expiry does not clear the new one',
    );
    assert.throws(() => controller.inject('primary', { status: 500, until: 9_000 }), /before it starts/);
    assert.throws(() => controller.inject('primary', {}), /does nothing/);
  });

  test('calls and applied count what the fault did', async () => {
    const draws = [0.1, 0.9, 0.1];
    const clock = new FakeClock();
    const controller = new ChaosController({ clock, random: () => draws.shift()! });
    const provider = wrapWithChaos(new StubProvider(), 'primary', controller);
    controller.inject('primary', { errorRate: 0.5 });
    const options: CallOptions = { model: 'm', signal: new AbortController().signal };
    for (let i = 0; i < 3; i++) await provider.chat(REQUEST, options).catch(() => undefined);
    const [fault] = controller.list();
    assert.equal(fault?.calls, 3);
    assert.equal(fault?.applied, 2);
  });

  test('descriptions and durations read as a person would write them', () => {
    assert.equal(describeFault({ rateLimit: true, retryAfterMs: 2000 }), '429 retry-after 2000ms');
    assert.equal(describeFault({ hangRate: 0.1 }), 'hang p=0.1');
    assert.equal(describeFault({ cutStreamAfter: 3, errorRate: 0.5 }), 'cut stream after 3 p=0.5');
    assert.equal(describeFault({ stallMs: 5000, latencyMs: 10 }), 'latency +10ms, stall 5000ms');
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('750'), 750);
    assert.equal(parseDuration('soon'), undefined);
  });
});
