import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGameDays } from '../../chaos/lib/gameday.ts';
import { renderText } from '../../chaos/lib/report.ts';

/**
 * Every game-day scenario, shortened, with its thresholds: the CI version of `npm run chaos`. It runs
 * in the sequential load phase, alone on the machine, so latency thresholds mean what they say.
 */
test('game days (short): every scenario within its thresholds', { timeout: 300_000 }, async () => {
  const run = await runGameDays({ mode: 'short' });
  console.log(renderText(run));
  const failed = run.scenarios.filter((s) => !s.passed).map((s) => s.name);
  assert.deepEqual(failed, [], `scenarios over their thresholds: ${failed.join(', ')}`);
  for (const s of run.scenarios) assert.equal(s.unanswered, 0, `${s.name}: unanswered requests`);
});
