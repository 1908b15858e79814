import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReleaseLog } from '../../src/features/release-stats.ts';
import { FeatureService } from '../../src/features/service.ts';
import { FakePrompts, features, never, ScriptedChat } from './fakes.ts';

function setup(by: 'user' | 'session' = 'user', percent = 10) {
  const prompts = new FakePrompts()
    .add('v1', { messages: [{ role: 'system', content: 'baseline' }] }, 'production')
    .add('v2', { messages: [{ role: 'system', content: 'canary' }] }, 'canary');
  const release = new ReleaseLog({ perFeature: 20_000 });
  const service = new FeatureService({
    features: features({
      f: { prompt: { name: 'p' }, route: 'main', release: { canary: { percent, by } } },
    }),
    prompts,
    chat: new ScriptedChat(() => 'ok'),
    release,
  });
  return { service, prompts, release };
}

describe('canary releases', () => {
  it('sends 10% of 10,000 users to the canary label (within ±2%), one version per user', async () => {
    const { service, release } = setup();
    let canary = 0;
    for (let i = 0; i < 10_000; i++) {
      const result = await service.call('f', { user: `user-${i}`, requestId: `r${i}` }, never());
      if (result.releaseArm === 'canary') {
        canary++;
        assert.equal(result.promptVersion, 'v2');
      } else assert.equal(result.promptVersion, 'v1');
    }
    const share = canary / 10_000;
    console.log(`canary share over 10,000 users: ${(share * 100).toFixed(2)}%`);
    assert.ok(share >= 0.08 && share <= 0.12, `canary share ${share}`);
    const status = release.status('f');
    assert.equal(status.canary?.canary.requests, canary);
    assert.equal(status.canary?.baseline.requests, 10_000 - canary);
  });

  it('is sticky: a user sees the same version on every call', async () => {
    const { service } = setup('user', 50);
    for (let i = 0; i < 50; i++) {
      const versions = new Set<string>();
      for (let call = 0; call < 4; call++) {
        const result = await service.call('f', { user: `u${i}`, requestId: `r${i}-${call}` }, never());
        versions.add(result.promptVersion);
      }
      assert.equal(versions.size, 1, `user u${i} saw ${[...versions].join(', ')}`);
    }
  });

  it('by session: a call without a session stays on the baseline', async () => {
    const { service } = setup('session', 100);
    const withSession = await service.call('f', { session: 's1', user: 'u', requestId: 'a' }, never());
    const without = await service.call('f', { user: 'u', requestId: 'b' }, never());
    assert.equal(withSession.releaseArm, 'canary');
    assert.equal(without.releaseArm, 'baseline');
  });

  it('without a canary label the canary arm is served the baseline version', async () => {
    const { service, prompts } = setup('user', 100);
    prompts.labels.delete('canary');
    const result = await service.call('f', { user: 'u', requestId: 'r' }, never());
    assert.equal(result.releaseArm, 'baseline');
    assert.equal(result.promptVersion, 'v1');
  });
});
