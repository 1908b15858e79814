import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Pool } from 'undici';

/** Resident memory of another process, from /proc. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * 10× the configured capacity for 5 s: every request gets an answer (200 or a clear 429), none hangs,
 * /healthz stays responsive, memory stays bounded. Capacity: 10 in flight × 100 ms = 100 req/s.
 */
test('overload at 10× capacity: shed with 429, healthz responsive, nothing unanswered', async () => {
  const child = fork(new URL('./support/overload-server.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const gw = JSON.parse(line.toString()) as { url: string };
  const pool = new Pool(gw.url, { connections: 256 });
  const health = new Pool(gw.url, { connections: 1 });
  const counts = { offered: 0, ok: 0, shed: 0, other: 0, unanswered: 0 };
  const healthMs: number[] = [];
  let peakRss = rssOf(child.pid!);
  const body = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
  const rate = 1000;
  const seconds = 5;
  const inflight: Promise<void>[] = [];
  const started = performance.now();

  const probe = (async () => {
    while (performance.now() - started < seconds * 1000) {
      const t0 = performance.now();
      const res = await health.request({ path: '/healthz', method: 'GET' });
      await res.body.text();
      healthMs.push(performance.now() - t0);
      peakRss = Math.max(peakRss, rssOf(child.pid!));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  for (let tick = 0; tick < seconds * 100; tick++) {
    // Open loop: 10 requests every 10 ms, whatever the answers do.
    for (let i = 0; i < rate / 100; i++) {
      counts.offered++;
      inflight.push(
        pool
          .request({
            path: '/v1/chat/completions',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(10_000),
          })
          .then(async (res) => {
            await res.body.text();
            if (res.statusCode === 200) counts.ok++;
            else if (res.statusCode === 429 && res.headers['retry-after']) counts.shed++;
            else counts.other++;
          })
          .catch(() => {
            counts.unanswered++;
          }),
      );
    }
    const due = started + (tick + 1) * 10;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  await Promise.all(inflight);
  await probe;
  await pool.close();
  await health.close();
  child.send('stats');
  const [stats] = (await once(child, 'message')) as [{ admission: { peakQueued: number } }];
  const admission = stats.admission;
  child.send('close');
  await once(child, 'exit');

  healthMs.sort((a, b) => a - b);
  const p99 = healthMs[Math.floor(healthMs.length * 0.99)] ?? Number.NaN;
  console.log(
    `overload 10x: offered ${counts.offered}, served ${counts.ok}, shed ${counts.shed} (429 + Retry-After), other ${counts.other}, ` +
      `unanswered ${counts.unanswered}; healthz p99 ${p99.toFixed(1)} ms over ${healthMs.length} probes; ` +
      `peak RSS ${(peakRss / 1e6).toFixed(0)} MB; peak queue ${admission?.peakQueued}`,
  );
  assert.equal(counts.unanswered, 0, 'every request got an answer');
  assert.equal(counts.other, 0, 'only 200 or 429');
  assert.equal(counts.ok + counts.shed, counts.offered);
  assert.ok(counts.shed > counts.offered * 0.5, 'most of a 10x overload is shed');
  assert.ok(p99 < 50, `healthz p99 ${p99.toFixed(1)} ms`);
  assert.ok((admission?.peakQueued ?? 0) <= 20, 'the queue stayed bounded');
  assert.ok(peakRss < 300e6, `memory stayed bounded (peak RSS ${(peakRss / 1e6).toFixed(0)} MB)`);
});
