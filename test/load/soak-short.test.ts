import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyze, DEFAULT_THRESHOLDS, fit, type Point } from '../../soak/analyze.ts';
import { runSoak } from '../../soak/soak.ts';

/**
 * The soak, short: Keel in a child process for 2 minutes of mixed traffic with faults, sampled every 5 s.
 * Timing- and memory-sensitive, so it runs in the sequential load phase. The full run is
 * `npm run soak -- --minutes 30` (docs/soak.md).
 */

const point = (t: number, heapMB: number, rssMB: number, fds: number, elP99Ms = 5): Point => ({
  t,
  heapMB,
  rssMB,
  fds,
  elP99Ms,
});

describe('soak verdict', () => {
  test('least squares: slope per hour, growth over the window, r²', () => {
    const f = fit([0, 60, 120], [10, 11, 12]);
    assert.equal(Math.round(f.slopePerHour), 60);
    assert.equal(Math.round(f.growth * 10) / 10, 2);
    assert.equal(Math.round(f.r2 * 100) / 100, 1);
  });

  test('flat but noisy samples pass; a steady leak fails; fds that only rise fail', () => {
    const noisy = Array.from({ length: 12 }, (_, i) =>
      point(i * 5, 40 + ((i * 7) % 3) * 0.3, 180 + ((i * 5) % 4), 45 + (i % 3)),
    );
    assert.ok(analyze(noisy, 10).pass, JSON.stringify(analyze(noisy, 10).checks));

    const leak = Array.from({ length: 12 }, (_, i) => point(i * 5, 40 + i * 0.5, 180 + i * 2, 45));
    const leaking = analyze(leak, 10);
    assert.equal(leaking.checks.find((c) => c.name === 'heap')?.pass, false);
    assert.equal(leaking.checks.find((c) => c.name === 'rss')?.pass, false);

    // Climbs, then levels off (a worker heap warming up): not sustained growth.
    const plateau = Array.from({ length: 12 }, (_, i) => point(i * 5, 40, 180 + Math.min(i, 6) * 6, 45));
    assert.ok(analyze(plateau, 10).pass, JSON.stringify(analyze(plateau, 10).checks));

    const fds = Array.from({ length: 12 }, (_, i) => point(i * 5, 40, 180, 45 + i));
    assert.equal(analyze(fds, 10).checks.find((c) => c.name === 'fds')?.pass, false);

    const blocked = Array.from({ length: 12 }, (_, i) => point(i * 5, 40, 180, 45, 400));
    assert.equal(analyze(blocked, 10).checks.find((c) => c.name === 'event loop')?.pass, false);

    assert.equal(
      analyze(noisy.slice(0, 3), 10).pass,
      false,
      'too few samples after the warm-up is no verdict',
    );
    assert.ok(DEFAULT_THRESHOLDS.heapFloorMB > 0);
  });
});

test('soak, 2 min with 5 s samples: no sustained growth, no hangs, every answer expected', {
  timeout: 240_000,
}, async () => {
  const lines: string[] = [];
  const result = await runSoak({
    minutes: 2,
    sampleSeconds: 5,
    rps: 40,
    maxInFlight: 64,
    // The memory store records inline, so the forced GC sees every heap; the SQLite writer's worker
    // thread takes ~3 min to level off and is left to the full run (docs/soak.md).
    store: 'memory',
    log: (line) => lines.push(line),
  });
  console.log(lines.join('\n'));
  for (const c of [...result.analysis.checks, ...result.health]) {
    console.log(`soak: ${c.pass ? 'pass' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  console.log(result.summary);
  assert.ok(result.pass, result.summary);
});
