import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionController, type Priority } from '../../../src/edge/admission/controller.ts';
import { EdgeError } from '../../../src/edge/limits/errors.ts';
import { FakeClock, flush } from '../../helpers/fake-clock.ts';
import { rng } from '../limits/support.ts';

const FAR = Number.MAX_SAFE_INTEGER;

interface Tracked {
  state: 'pending' | 'admitted' | 'rejected';
  release: () => void;
  error: unknown;
}

function track(promise: Promise<() => void>, onSettled?: (t: Tracked) => void): Tracked {
  const t: Tracked = { state: 'pending', release: () => {}, error: undefined };
  promise.then(
    (release) => {
      t.state = 'admitted';
      t.release = release;
      onSettled?.(t);
    },
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
      onSettled?.(t);
    },
  );
  return t;
}

function setup(limits = { maxConcurrent: 1, maxQueue: 10, maxQueueWaitMs: 1000 }, predictive = true) {
  const clock = new FakeClock();
  const controller = new AdmissionController({ clock, routes: { chat: limits }, predictive });
  const acquire = (
    priority: Priority = 'normal',
    options: { deadlineAt?: number; signal?: AbortSignal; onSettled?: (t: Tracked) => void } = {},
  ) =>
    track(
      controller.acquire({
        route: 'chat',
        priority,
        deadlineAt: options.deadlineAt ?? FAR,
        signal: options.signal ?? new AbortController().signal,
      }),
      options.onSettled,
    );
  return { clock, controller, acquire, stats: () => controller.stats().chat! };
}

function shedReason(t: Tracked): string | undefined {
  return t.error instanceof EdgeError ? t.error.shed?.reason : undefined;
}

test('admits up to maxConcurrent at once; release hands the slot on', async () => {
  const { acquire, stats } = setup({ maxConcurrent: 2, maxQueue: 5, maxQueueWaitMs: 1000 });
  const a = acquire();
  const b = acquire();
  const c = acquire();
  await flush();
  assert.deepEqual([a.state, b.state, c.state], ['admitted', 'admitted', 'pending']);
  assert.equal(stats().inFlight, 2);
  assert.equal(stats().queued.normal, 1);
  a.release();
  a.release(); // a second call does nothing
  await flush();
  assert.equal(c.state, 'admitted');
  assert.equal(stats().inFlight, 2);
  b.release();
  c.release();
  assert.equal(stats().inFlight, 0);
});

test('queue order: high before normal before low, FIFO within a priority', async () => {
  const { acquire } = setup();
  const holder = acquire();
  await flush();
  const order: string[] = [];
  const queued: Array<[string, Tracked]> = (
    [
      ['low1', 'low'],
      ['normal1', 'normal'],
      ['high1', 'high'],
      ['low2', 'low'],
      ['normal2', 'normal'],
      ['high2', 'high'],
    ] as const
  ).map(([name, p]) => [name, acquire(p)]);
  await flush();
  let current = holder;
  for (let i = 0; i < queued.length; i++) {
    current.release();
    await flush();
    const next = queued.find(([name, t]) => t.state === 'admitted' && !order.includes(name));
    assert.ok(next, `someone is admitted after release ${i}`);
    order.push(next[0]);
    current = next[1];
  }
  current.release();
  assert.deepEqual(order, ['high1', 'high2', 'normal1', 'normal2', 'low1', 'low2']);
});

test('a queued request is shed exactly when maxQueueWaitMs passes, with a 429 and retryAfterMs', async () => {
  const { acquire, clock, stats } = setup({ maxConcurrent: 1, maxQueue: 10, maxQueueWaitMs: 500 });
  acquire();
  const waiting = acquire();
  await clock.advance(499);
  assert.equal(waiting.state, 'pending');
  await clock.advance(1);
  assert.equal(waiting.state, 'rejected');
  assert.equal(shedReason(waiting), 'queue_timeout');
  const error = waiting.error as EdgeError;
  assert.equal(error.status, 429);
  assert.equal(error.edgeCode, 'KEEL_OVERLOADED');
  assert.ok((error.retryAfterMs ?? 0) > 0);
  assert.equal(stats().shed.queue_timeout, 1);
  assert.equal(stats().queued.normal, 0);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a queued request is shed at its deadline when that comes first, or at once when it has passed', async () => {
  const { acquire, clock, stats } = setup({ maxConcurrent: 1, maxQueue: 10, maxQueueWaitMs: 5000 });
  acquire();
  const soon = acquire('normal', { deadlineAt: clock.now() + 200 });
  const late = acquire('normal', { deadlineAt: clock.now() - 1 });
  await flush();
  assert.equal(late.state, 'rejected');
  assert.equal(shedReason(late), 'deadline');
  await clock.advance(200);
  assert.equal(soon.state, 'rejected');
  assert.equal(shedReason(soon), 'deadline');
  assert.equal(stats().shed.deadline, 2);
});

test('a full queue sheds a new request at once', async () => {
  const { acquire, stats } = setup({ maxConcurrent: 1, maxQueue: 2, maxQueueWaitMs: 1000 });
  acquire();
  const q1 = acquire();
  const q2 = acquire();
  const extra = acquire();
  await flush();
  assert.deepEqual([q1.state, q2.state, extra.state], ['pending', 'pending', 'rejected']);
  assert.equal(shedReason(extra), 'queue_full');
  assert.equal(stats().shed.queue_full, 1);
});

test('priority shedding: a higher-priority arrival displaces the newest low, then the newest normal', async () => {
  const { acquire, stats } = setup({ maxConcurrent: 1, maxQueue: 3, maxQueueWaitMs: 1000 });
  acquire();
  const normal1 = acquire('normal');
  const low1 = acquire('low');
  const low2 = acquire('low');
  await flush();
  const lowLate = acquire('low');
  await flush();
  assert.equal(shedReason(lowLate), 'queue_full', 'a low arrival cannot displace anyone');

  const high1 = acquire('high');
  await flush();
  assert.equal(shedReason(low2), 'displaced', 'newest low goes first');
  assert.equal(low1.state, 'pending');
  const high2 = acquire('high');
  await flush();
  assert.equal(shedReason(low1), 'displaced');
  const normal2 = acquire('normal');
  await flush();
  assert.equal(shedReason(normal2), 'queue_full', 'a normal arrival cannot displace a normal');
  const high3 = acquire('high');
  await flush();
  assert.equal(shedReason(normal1), 'displaced');
  const high4 = acquire('high');
  await flush();
  assert.equal(shedReason(high4), 'queue_full');
  assert.deepEqual([high1.state, high2.state, high3.state], ['pending', 'pending', 'pending']);
  assert.deepEqual(stats().queued, { high: 3, normal: 0, low: 0 });
  assert.equal(stats().shed.displaced, 3);
});

test('an aborted request leaves the queue, rejects with the abort reason and frees its place', async () => {
  const { acquire, clock, stats } = setup({ maxConcurrent: 1, maxQueue: 1, maxQueueWaitMs: 1000 });
  const holder = acquire();
  const abort = new AbortController();
  const waiting = acquire('normal', { signal: abort.signal });
  await flush();
  assert.equal(clock.pending, 1);
  abort.abort(new Error('client left'));
  await flush();
  assert.equal(waiting.state, 'rejected');
  assert.equal((waiting.error as Error).message, 'client left');
  assert.equal(stats().queued.normal, 0);
  assert.equal(stats().aborted, 1);
  assert.equal(clock.pending, 0, 'its timer is cancelled');
  const next = acquire();
  await flush();
  holder.release();
  await flush();
  assert.equal(next.state, 'admitted', 'the slot goes to the next, not the aborted one');

  const already = new AbortController();
  already.abort(new Error('gone'));
  const dead = acquire('normal', { signal: already.signal });
  await flush();
  assert.equal((dead.error as Error).message, 'gone');
});

test('with a measured service rate, a request that cannot be served in time is shed on arrival', async () => {
  const { acquire, clock, stats } = setup({ maxConcurrent: 1, maxQueue: 10, maxQueueWaitMs: 250 });
  for (let i = 0; i < 10; i++) {
    const t = acquire();
    await flush();
    await clock.advance(100);
    t.release();
  }
  assert.equal(stats().avgServiceMs, 100);
  acquire();
  const first = acquire(); // expected wait ~100ms
  const second = acquire(); // ~200ms
  const third = acquire(); // ~300ms > 250ms: shed now rather than after 250ms
  const urgent = acquire('high'); // ahead of the normals: ~100ms
  await flush();
  assert.deepEqual(
    [first.state, second.state, third.state, urgent.state],
    ['pending', 'pending', 'rejected', 'pending'],
  );
  assert.equal(shedReason(third), 'predicted_wait');
  assert.equal(stats().shed.predicted_wait, 1);
  assert.equal(
    (third.error as EdgeError).retryAfterMs,
    300,
    'retry once the 2 queued and one more are served',
  );
});

test('routes without limits pass straight through; stats are per route', async () => {
  const clock = new FakeClock();
  const controller = new AdmissionController({
    clock,
    routes: { chat: { maxConcurrent: 1, maxQueue: 0, maxQueueWaitMs: 0 } },
  });
  const signal = new AbortController().signal;
  const releases = await Promise.all(
    Array.from({ length: 50 }, () =>
      controller.acquire({ route: 'other', priority: 'low', deadlineAt: FAR, signal }),
    ),
  );
  for (const release of releases) release();
  assert.deepEqual(Object.keys(controller.stats()), []);
  await controller.acquire({ route: 'chat', priority: 'low', deadlineAt: FAR, signal });
  await assert.rejects(
    controller.acquire({ route: 'chat', priority: 'high', deadlineAt: FAR, signal }),
    EdgeError,
  );
  assert.equal(controller.stats().chat?.shed.queue_full, 1);
});

async function overload(predictive: boolean) {
  const limits = { maxConcurrent: 10, maxQueue: 20, maxQueueWaitMs: 150 };
  const { acquire, clock, stats } = setup(limits, predictive);
  const random = rng(42);
  // Capacity: 10 slots x 100ms mean service = 100 req/s. Offered: 1000 req/s for 2s (10x).
  const offered = 2000;
  const byPriority: Record<Priority, { offered: number; admitted: number }> = {
    high: { offered: 0, admitted: 0 },
    normal: { offered: 0, admitted: 0 },
    low: { offered: 0, admitted: 0 },
  };
  let admitted = 0;
  let shed = 0;
  let other = 0;
  let peakQueue = 0;
  for (let i = 0; i < offered; i++) {
    const roll = random();
    const priority: Priority = roll < 0.1 ? 'high' : roll < 0.6 ? 'normal' : 'low';
    byPriority[priority].offered++;
    const service = 50 + Math.floor(random() * 100);
    acquire(priority, {
      deadlineAt: clock.now() + 2000,
      onSettled: (t) => {
        if (t.state === 'admitted') {
          admitted++;
          byPriority[priority].admitted++;
          clock.setTimer(service, t.release);
        } else if (
          t.error instanceof EdgeError &&
          t.error.status === 429 &&
          t.error.retryAfterMs !== undefined
        ) {
          shed++;
        } else other++;
      },
    });
    const s = stats();
    peakQueue = Math.max(peakQueue, s.queued.high + s.queued.normal + s.queued.low);
    await clock.advance(1);
  }
  await clock.advance(5000); // bounded drain: every wait is at most 150ms, every service at most 150ms
  return {
    admitted,
    shed,
    other,
    peakQueue,
    byPriority,
    stats: stats(),
    pending: clock.pending,
    limits,
    offered,
  };
}

for (const predictive of [true, false]) {
  test(`10x overload (${predictive ? 'predictive' : 'timeout-only'} shedding): sheds with 429s, leaves nothing hanging, keeps the queue bounded`, async () => {
    const r = await overload(predictive);
    const shedRate = (p: Priority) => (1 - r.byPriority[p].admitted / r.byPriority[p].offered) * 100;
    console.log(
      `Admission (${predictive ? 'predictive' : 'timeout-only'}): offered ${r.offered} at 10x capacity -> admitted ${r.admitted}, ` +
        `shed ${r.shed} (${JSON.stringify(r.stats.shed)}), peak queue ${r.peakQueue}/${r.limits.maxQueue}; ` +
        `shed rate high ${shedRate('high').toFixed(1)}%, normal ${shedRate('normal').toFixed(1)}%, low ${shedRate('low').toFixed(1)}%`,
    );
    assert.equal(r.other, 0);
    assert.equal(r.admitted + r.shed, r.offered, 'every request is admitted or shed');
    assert.ok(r.peakQueue <= r.limits.maxQueue);
    assert.ok(r.stats.peakQueued <= r.limits.maxQueue);
    assert.equal(r.stats.inFlight, 0);
    assert.deepEqual(r.stats.queued, { high: 0, normal: 0, low: 0 });
    assert.equal(r.pending, 0, 'no timers left');
    assert.ok(r.admitted >= 180 && r.admitted <= 260, `throughput near capacity (~200 in 2s): ${r.admitted}`);
    assert.ok(shedRate('high') < shedRate('normal') && shedRate('normal') <= shedRate('low'));
  });
}
