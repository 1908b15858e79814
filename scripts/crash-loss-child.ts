/**
 * Child of scripts/crash-loss.ts: records synthetic traces at a steady rate through a TraceRecorder
 * into a SqliteTraceStore, printing each trace id to stdout once record() has returned (that is the
 * "acknowledged" count). On SIGTERM it drains, closes the store and exits 0.
 *
 * Usage: node --import tsx scripts/crash-loss-child.ts <db path> <traces per second> <flushMs>
 */
import { SqliteTraceStore } from '../src/store/sqlite/store.ts';
import { TraceRecorder } from '../src/telemetry/recorder.ts';
import type { Trace } from '../src/telemetry/trace.ts';

const [path, rateArg = '2000', flushArg = '200'] = process.argv.slice(2);
if (!path) throw new Error('usage: crash-loss-child.ts <db path> [rate] [flushMs]');
const rate = Number(rateArg);
const flushMs = Number(flushArg);

const store = new SqliteTraceStore({ path });
const recorder = new TraceRecorder({
  store,
  queue: { capacity: 10_000, flushMs, batchSize: 500 },
  bodiesFor: () => 'redact',
  salt: '',
  onError: (err) => process.stderr.write(`recorder error: ${String(err)}\n`),
});

const run = process.pid.toString(36);
function synthetic(n: number): Trace {
  const startedAt = Date.now();
  return {
    id: `crash_${run}_${n}`,
    startedAt,
    endedAt: startedAt + 120,
    durationMs: 120,
    endpoint: 'chat',
    stream: false,
    route: 'chat',
    user: `user_${n % 50}`,
    status: 200,
    outcome: 'ok',
    decision: 'primary',
    decisionPath: ['primary → sim/fast: ok in 120 ms', 'answered by sim/fast (primary)'],
    target: 'sim/fast',
    tokensIn: 42,
    tokensOut: 17,
    tokensCached: 0,
    estimated: false,
    costUsd: 0.0001,
    spans: [
      {
        target: 'sim/fast',
        provider: 'simulated',
        reason: 'primary',
        retry: 0,
        outcome: 'ok',
        startedAt,
        latencyMs: 120,
        tokensIn: 42,
        tokensOut: 17,
        tokensCached: 0,
        estimated: false,
        costUsd: 0.0001,
      },
    ],
    slots: {},
    request: {
      model: 'chat',
      messages: [{ role: 'user', content: `question number ${n}: what is the refund policy?` }],
    },
    response: { choices: [{ message: { role: 'assistant', content: `answer number ${n}: thirty days.` } }] },
  };
}

let sent = 0;
const start = performance.now();
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - start) * rate) / 1000);
  while (sent < due) {
    const trace = synthetic(sent++);
    recorder.record(trace);
    process.stdout.write(`${trace.id}\n`);
  }
}, 2);

process.once('SIGTERM', () => {
  clearInterval(timer);
  void (async () => {
    await recorder.close();
    await store.close();
    process.stderr.write(`drained: ${JSON.stringify(recorder.stats())}\n`);
    process.exit(0);
  })();
});
