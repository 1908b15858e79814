import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArmOutcome, ReleaseRecord } from '../../src/features/ports.ts';
import { formatReleaseStatus, percentile, ReleaseLog } from '../../src/features/release-stats.ts';

const outcome = (o: Partial<ArmOutcome>): ArmOutcome => ({
  version: 'v1',
  route: 'main',
  ok: true,
  validation: { ok: true },
  latencyMs: 10,
  costUsd: 0.001,
  ...o,
});

const canary = (arm: 'baseline' | 'canary', o: Partial<ArmOutcome>, i: number): ReleaseRecord => ({
  kind: 'canary',
  feature: 'f',
  requestId: `r${i}`,
  at: i,
  arm,
  outcome: outcome(o),
});

/** Baseline: latencies 10..100 ms, 8 of 10 ok, 7 of 9 first answers valid (one never answered). */
function knownRecords(): ReleaseRecord[] {
  const baseline = Array.from({ length: 10 }, (_, i) =>
    canary(
      'baseline',
      {
        latencyMs: (i + 1) * 10,
        ok: i < 8,
        validation: i === 9 ? undefined : { ok: i < 7 },
      },
      i,
    ),
  );
  const candidate = [
    canary('canary', { version: 'v2', latencyMs: 30, costUsd: 0.002, ok: true }, 10),
    canary(
      'canary',
      { version: 'v2', latencyMs: 10, costUsd: 0.004, ok: false, validation: { ok: false } },
      11,
    ),
  ];
  const shadow: ReleaseRecord = {
    kind: 'shadow',
    feature: 'f',
    requestId: 's1',
    at: 12,
    baseline: outcome({ latencyMs: 40 }),
    candidate: outcome({
      version: 'v3',
      route: 'cheap',
      latencyMs: 400,
      ok: false,
      validation: { ok: false },
    }),
  };
  return [...baseline, ...candidate, shadow];
}

describe('release stats', () => {
  it('aggregates canary and shadow records per arm', () => {
    const log = new ReleaseLog();
    for (const r of knownRecords()) log.record(r);
    log.record({ ...knownRecords()[0]!, feature: 'other' });
    const status = log.status('f');
    const { meanCostUsd, ...baseline } = status.canary!.baseline;
    assert.ok(Math.abs(meanCostUsd - 0.001) < 1e-12);
    assert.deepEqual(baseline, {
      requests: 10,
      successRate: 0.8,
      validationPassRate: 7 / 9,
      p50LatencyMs: 50,
      p95LatencyMs: 100,
      versions: ['v1'],
      routes: ['main'],
    });
    const c = status.canary!.canary;
    assert.deepEqual(
      [c.requests, c.successRate, c.validationPassRate, c.p50LatencyMs, c.p95LatencyMs, c.versions],
      [2, 0.5, 0.5, 10, 30, ['v2']],
    );
    assert.ok(Math.abs(c.meanCostUsd - 0.003) < 1e-12);
    assert.deepEqual(
      [
        status.shadow?.baseline.requests,
        status.shadow?.candidate.successRate,
        status.shadow?.candidate.routes,
      ],
      [1, 0, ['cheap']],
    );
  });

  it('prints the keel release status table', () => {
    const log = new ReleaseLog();
    for (const r of knownRecords()) log.record(r);
    const text = formatReleaseStatus(log.status('f'));
    console.log(text);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'release status: f');
    assert.match(
      lines[1]!,
      /^traffic\s+arm\s+version\s+route\s+requests\s+success\s+valid\s+p50 ms\s+p95 ms\s+mean cost$/,
    );
    assert.match(
      lines[2]!,
      /^canary\s+baseline\s+v1\s+main\s+10\s+80\.0%\s+77\.8%\s+50\s+100\s+\$0\.001000$/,
    );
    assert.match(lines[3]!, /^canary\s+canary\s+v2\s+main\s+2\s+50\.0%\s+50\.0%\s+10\s+30\s+\$0\.003000$/);
    assert.match(
      lines[5]!,
      /^shadow\s+candidate\s+v3\s+cheap\s+1\s+0\.0%\s+0\.0%\s+400\s+400\s+\$0\.001000$/,
    );
    assert.equal(
      formatReleaseStatus(log.status('nothing')),
      'nothing: no canary or shadow traffic recorded\n',
    );
  });

  it('keeps only the newest records of each feature', () => {
    const log = new ReleaseLog({ perFeature: 3 });
    const records = knownRecords().slice(0, 5);
    for (const r of records) log.record(r);
    assert.deepEqual(
      log.records('f').map((r) => r.requestId),
      ['r2', 'r3', 'r4'],
    );
  });

  it('percentiles by nearest rank', () => {
    assert.equal(percentile([], 0.5), 0);
    assert.equal(percentile([7], 0.95), 7);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
  });
});
