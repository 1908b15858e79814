import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { KeelError } from '../../src/core/errors.ts';
import { OpenAIProvider } from '../../src/providers/openai.ts';
import type { CallOptions } from '../../src/providers/provider.ts';
import { Timebox } from '../../src/resilience/deadline.ts';
import { callOptions } from '../../src/router/attempt.ts';
import { neverAnswers, rejectsWith } from '../helpers/never-answers.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function setup(t: TestContext, handler: Handler) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const provider = new OpenAIProvider({ baseUrl: `http://127.0.0.1:${port}/v1` });
  t.after(async () => {
    await provider.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { provider, requests };
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
});
const ask = { model: 'route', messages: [{ role: 'user' as const, content: 'Hi' }] };

/** The router's call options for a box, counting reads of the platform signal. */
function watched(box: Timebox): { options: CallOptions; signalReads: () => number } {
  const inner = callOptions('gpt-test', box);
  let reads = 0;
  const options: CallOptions = {
    model: inner.model,
    get signal() {
      reads++;
      return inner.signal;
    },
    abortScope: inner.abortScope,
  };
  return { options, signalReads: () => reads };
}

test('a buffered call cancelled through its abort scope: the server sees the close, the call rejects with the reason, and no AbortSignal is made', async (t) => {
  const { handler, requestArrived, connectionClosed } = neverAnswers();
  const { provider } = await setup(t, handler);
  const box = new Timebox(systemClock);
  const { options, signalReads } = watched(box);
  const call = provider.chat(ask, options);
  await requestArrived;
  const reason = new KeelError('KEEL_PROVIDER_TIMEOUT', 'primary: no answer within timeoutMs 10');
  box.abort(reason);
  await rejectsWith(call, reason);
  await connectionClosed;
  assert.equal(signalReads(), 0, 'the platform signal was never needed');
});

test('a scope already aborted rejects with its reason and sends nothing upstream', async (t) => {
  const { provider, requests } = await setup(t, (_req, res) => res.end(COMPLETION));
  const box = new Timebox(systemClock);
  const reason = new KeelError('KEEL_DEADLINE_EXCEEDED', 'route "chat" deadline of 10 ms passed');
  box.abort(reason);
  await rejectsWith(provider.chat(ask, watched(box).options), reason);
  assert.deepEqual(requests, []);
});

test('a completed call unsubscribes from its scope and reads no signal', async (t) => {
  const { provider } = await setup(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(COMPLETION);
  });
  let subscribed = 0;
  let unsubscribed = 0;
  let signalReads = 0;
  const options: CallOptions = {
    model: 'gpt-test',
    get signal(): AbortSignal {
      signalReads++;
      return new AbortController().signal;
    },
    abortScope: {
      aborted: false,
      reason: undefined,
      onAbort: () => {
        subscribed++;
        return () => unsubscribed++;
      },
    },
  };
  const completion = await provider.chat(ask, options);
  assert.equal(completion.choices[0]?.message.content, 'hi');
  assert.deepEqual(
    { subscribed, unsubscribed, signalReads },
    { subscribed: 1, unsubscribed: 1, signalReads: 0 },
  );
});

test('without a scope the platform signal still cancels the call', async (t) => {
  const { handler, requestArrived } = neverAnswers();
  const { provider } = await setup(t, handler);
  const controller = new AbortController();
  const call = provider.chat(ask, { model: 'gpt-test', signal: controller.signal });
  await requestArrived;
  const reason = new KeelError('KEEL_CLIENT_CLOSED', 'client closed the connection');
  controller.abort(reason);
  await rejectsWith(call, reason);
});
