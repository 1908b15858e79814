import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../src/evals/gate.ts';
import type { RunResult } from '../../src/evals/run-files.ts';
import type { ScoreResult } from '../../src/evals/scorers/scorer.ts';
import { bootstrapMeanCI, seededRandom } from '../../src/evals/stats.ts';

function result(caseId: string, repeat: number, scores: Record<string, number | string>): RunResult {
  const converted: Record<string, ScoreResult> = {};
  for (const [metric, score] of Object.entries(scores))
    converted[metric] = typeof score === 'number' ? { value: score } : { error: score };
  return { caseId, repeat, output: '', latencyMs: 1, scores: converted, finishedAt: '' };
}

/** One result per (case, repeat) with the given per-case scores for metric `m`. */
function run(perCase: number[][], metric = 'm'): RunResult[] {
  return perCase.flatMap((repeats, i) => repeats.map((v, r) => result(`c${i}`, r, { [metric]: v })));
}

test('the absolute threshold applies to the mean of per-case means (repeats averaged first)', () => {
  const candidate = run([[1, 0, 1], [0]]);
  const ok = gate({ candidate, metrics: { m: { min: 0.3 } } });
  assert.equal(ok.pass, true);
  assert.ok(Math.abs(ok.metrics[0]!.candidate.mean! - 1 / 3) < 1e-12);
  assert.equal(ok.metrics[0]!.candidate.cases, 2);
  assert.equal(ok.metrics[0]!.candidate.scored, 4);
  const failed = gate({ candidate, metrics: { m: { min: 0.4 } } });
  assert.equal(failed.pass, false);
  assert.match(failed.metrics[0]!.failures[0]!, /mean 0\.333 < threshold 0\.400/);
});

test('scorer errors are counted, never averaged in, and fail the metric past the ceiling', () => {
  const candidate = [
    result('a', 0, { m: 1 }),
    result('a', 1, { m: 'judge gave no valid JSON' }),
    result('b', 0, { m: 1 }),
    result('c', 0, { m: 'judge gave no valid JSON' }),
  ];
  const verdict = gate({ candidate, metrics: { m: { min: 0.9 } }, maxErrorRate: 0.6 });
  const m = verdict.metrics[0]!;
  assert.equal(m.candidate.mean, 1, 'errors are not zeros');
  assert.equal(m.candidate.errors, 2);
  assert.equal(m.candidate.cases, 2, 'a case with only errors has no mean');
  assert.equal(verdict.pass, true);
  const strict = gate({ candidate, metrics: { m: { min: 0.9, maxErrorRate: 0.25 } } });
  assert.equal(strict.pass, false);
  assert.match(strict.metrics[0]!.failures[0]!, /2 scorer errors \(50% of pairs; ceiling 25%\)/);
  const none = gate({ candidate: [result('a', 0, { m: 'x' })] });
  assert.equal(none.pass, false);
  assert.match(none.metrics[0]!.failures[0]!, /no scores for m in the candidate run/);
});

test('a regression needs the whole CI of the paired difference below −margin', () => {
  const random = seededRandom(7);
  const base = Array.from({ length: 30 }, () => 0.3 + 0.6 * random());
  const baseline = run(base.map((q) => [q]));
  const clearDrop = gate({ candidate: run(base.map((q) => [q - 0.2])), baseline });
  assert.equal(clearDrop.pass, false);
  const cmp = clearDrop.metrics[0]!.comparison!;
  assert.equal(cmp.n, 30);
  assert.ok(Math.abs(cmp.meanDiff + 0.2) < 1e-9);
  assert.equal(cmp.regression, true);
  assert.match(
    clearDrop.metrics[0]!.failures[0]!,
    /regression: 95% CI of the difference \[-0\.200, -0\.200\] over 30 cases lies below −0\.020/,
  );

  const tinyDrop = gate({ candidate: run(base.map((q) => [q - 0.01])), baseline });
  assert.equal(tinyDrop.pass, true, 'a consistent drop smaller than the margin is not a regression');
  assert.ok(tinyDrop.metrics[0]!.comparison!.ci[1] < 0);

  const noisy = base.map((q, i) => [q + (i % 2 === 0 ? 0.3 : -0.3)]);
  const verdict = gate({ candidate: run(noisy), baseline });
  assert.equal(verdict.pass, true, 'noise around no change is not a regression');
  assert.ok(verdict.metrics[0]!.comparison!.ci[0] < -0.02);
});

test('cases are paired by id; no common case fails; a baseline without the metric is not compared', () => {
  const baseline = run([[0.5], [0.5], [0.5], [0.5], [0.5]]);
  const candidate = [...run([[0.5], [0.5], [0.5], [0.5], [0.5]]), result('new-case', 0, { m: 0 })];
  const paired = gate({ candidate, baseline });
  assert.equal(paired.metrics[0]!.comparison!.n, 5);
  assert.equal(paired.pass, true);

  const disjoint = gate({ candidate: [result('x', 0, { m: 1 })], baseline });
  assert.equal(disjoint.pass, false);
  assert.match(disjoint.metrics[0]!.failures[0]!, /no case was scored in both/);

  const newMetric = gate({ candidate: run([[1], [1]], 'fresh'), baseline });
  assert.equal(newMetric.pass, true);
  assert.match(newMetric.metrics[0]!.notes.join(' '), /the baseline has no fresh scores/);

  const few = gate({ candidate: run([[0], [0]]), baseline: run([[1], [1]]) });
  assert.equal(few.pass, true);
  assert.match(few.metrics[0]!.notes.join(' '), /only 2 paired cases \(< 5\): regression check inconclusive/);
});

test('the bootstrap is reproducible for a seed and covers the mean', () => {
  const values = Array.from({ length: 40 }, (_, i) => Math.sin(i));
  const a = bootstrapMeanCI(values, { seed: 3 });
  assert.deepEqual(bootstrapMeanCI(values, { seed: 3 }), a);
  assert.notDeepEqual(bootstrapMeanCI(values, { seed: 4 }), a);
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(a[0] < m && m < a[1]);
});

/**
 * A seeded noisy model: each case has a true quality q (uniform 0.35..0.85); one scored run of a case is
 * q plus judge noise (normal, sd 0.15), clipped to 0..1 and rounded to a 1..5 rubric step (0, .25, … 1).
 */
function simulatedRun(qualities: number[], repeat: number, normal: () => number): RunResult[] {
  return qualities.flatMap((q, i) =>
    Array.from({ length: repeat }, (_, r) => {
      const noisy = Math.min(1, Math.max(0, q + 0.15 * normal()));
      return result(`case-${i}`, r, { quality: Math.round(noisy * 4) / 4 });
    }),
  );
}

/** Runs `comparisons` simulated baseline-vs-candidate gates where the candidate's quality drops by `drop`. */
function simulate(drop: number, comparisons: number, seed: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let regressions = 0;
  let belowZero = 0;
  for (let trial = 0; trial < comparisons; trial++) {
    const qualities = Array.from({ length: 50 }, () => 0.35 + 0.5 * random());
    // The drop is uneven over cases: drop on average, sd 0.05 between cases.
    const candidate = qualities.map((q) => (drop === 0 ? q : q - drop - 0.05 * normal()));
    const verdict = gate({
      baseline: simulatedRun(qualities, 3, normal),
      candidate: simulatedRun(candidate, 3, normal),
      metrics: { quality: {} },
    });
    const comparison = verdict.metrics[0]!.comparison!;
    if (comparison.regression) regressions++;
    if (comparison.ci[1] < 0) belowZero++;
  }
  return { regressions, belowZero };
}

test('gate simulation: false alarms ≤ 5% with no change, detection ≥ 90% for a 0.1 drop', () => {
  const n = 200;
  const pct = (k: number) => `${k}/${n} (${((k / n) * 100).toFixed(1)}%)`;
  const same = simulate(0, n, 2024);
  const small = simulate(0.05, n, 2025);
  const real = simulate(0.1, n, 2026);
  console.log(
    'gate simulation: 50 cases, repeat 3, judge noise sd 0.15 on a 5-step scale, margin 0.02, 2000 resamples',
  );
  console.log(
    `  no change:  false alarms ${pct(same.regressions)} (CI wholly below 0, i.e. margin 0: ${pct(same.belowZero)})`,
  );
  console.log(`  0.05 drop:  detected ${pct(small.regressions)}`);
  console.log(`  0.10 drop:  detected ${pct(real.regressions)}`);
  assert.ok(same.regressions / n <= 0.05, `false-alarm rate ${same.regressions / n}`);
  assert.ok(real.regressions / n >= 0.9, `detection rate ${real.regressions / n}`);
  assert.ok(same.belowZero / n <= 0.06, 'the 95% CI misses zero on one side about 2.5% of the time');
});
