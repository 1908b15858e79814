import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DecisionStep, decisionHeader, describeSteps } from '../../src/features/decision.ts';

const path: DecisionStep[] = [
  {
    kind: 'attempt',
    ok: false,
    promptVersion: 'abc',
    route: 'main',
    target: 'gpt',
    validation: { ok: false, kind: 'schema', errors: ['/score: must be number'] },
    latencyMs: 120,
    costUsd: 0.001,
    why: 'baseline arm: p:production',
  },
  {
    kind: 'fallback',
    via: 'route',
    ok: false,
    route: 'safe',
    error: { code: 'KEEL_ALL_TARGETS_FAILED', message: 'every target failed' },
    latencyMs: 30,
    costUsd: 0,
    why: 'fallback to route safe',
  },
  { kind: 'fallback', via: 'cached', ok: false, latencyMs: 0, costUsd: 0, why: 'no valid answer stored' },
  {
    kind: 'fallback',
    via: 'escalate',
    ok: true,
    latencyMs: 2,
    costUsd: 0,
    why: 'escalated to human review as rev_1',
  },
];

describe('decision path', () => {
  it('the x-keel-decision header: the decision, then each step and its outcome', () => {
    assert.equal(
      decisionHeader('fallback', path),
      'fallback; attempt:schema fallback-route:keel_all_targets_failed fallback-cached:miss fallback-escalate:ok',
    );
    assert.equal(decisionHeader('pass', []), 'pass');
  });

  it('one readable trace line per step', () => {
    assert.deepEqual(describeSteps(path), [
      'attempt [version abc, route main, target gpt]: schema (/score: must be number), 120 ms — baseline arm: p:production',
      'fallback route [route safe]: keel_all_targets_failed (KEEL_ALL_TARGETS_FAILED: every target failed), 30 ms — fallback to route safe',
      'fallback cached: miss, 0 ms — no valid answer stored',
      'fallback escalate: ok, 2 ms — escalated to human review as rev_1',
    ]);
  });
});
