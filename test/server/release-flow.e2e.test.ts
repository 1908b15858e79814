/**
 * The release flow of issue #6 end to end, through the `keel` CLI against a running gateway: define a
 * feature, push two prompt versions, canary one at 10%, shadow another, watch `keel release status`,
 * roll back. The gateway runs Keel's embedded default config (whose `support-reply` feature is this
 * one), with memory stores and the simulated models made fast and steady for the test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { registerPromptCommands } from '../../src/cli/prompts.ts';
import { registerReleaseCommands } from '../../src/cli/release.ts';
import { DEFAULT_CONFIG_YAML } from '../../src/config/default-config.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { runCli } from '../helpers/cli.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';

const root = new URL('../../', import.meta.url).pathname;

/** The default config, with the simulated models steady and quick (the release logic is under test). */
const config = DEFAULT_CONFIG_YAML.replace(
  / {4}simulate:\n(?: {6}.*\n)+/g,
  '    simulate: { ttftMs: { p50: 2, p99: 5 }, tokensPerSecond: 5000 }\n',
);

async function keel(url: string, ...args: string[]): Promise<string> {
  const register = (program: Command) => {
    registerPromptCommands(program);
    registerReleaseCommands(program);
  };
  return (await runCli(register, [...args, '--url', url])).out;
}

describe('keel release flow: two versions, a 10% canary, a shadow, status, rollback', () => {
  let gw: Gateway;
  const dir = mkdtempSync(join(tmpdir(), 'keel-release-'));
  const files = {
    v1: join(root, 'examples/prompts/support-reply.yaml'),
    v2: join(root, 'examples/prompts/support-reply.v2.yaml'),
    v3: join(dir, 'support-reply.v3.yaml'),
  };
  writeFileSync(
    files.v3,
    readFileSync(files.v1, 'utf8').replace('at most five sentences', 'at most three sentences'),
  );

  before(async () => {
    assert.match(config, /simulate: \{ ttftMs/);
    gw = await gatewayFromYaml(config);
  });
  after(() => gw.close());

  async function ask(user: string) {
    const res = await fetch(`${gw.url}/v1/features/support-reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, variables: { customer_name: 'Ana', question: 'Where is my parcel?' } }),
    });
    const body = (await res.json()) as { prompt_version?: string; release_arm?: string; text?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  }

  it('runs the whole release', async () => {
    const push1 = await keel(gw.url, 'prompts', 'push', files.v1);
    const v1 = /@([0-9a-f]{12})/.exec(push1)?.[1];
    assert.ok(v1, push1);
    await keel(gw.url, 'prompts', 'promote', 'support-reply', v1, '--label', 'production');
    const v2 = /@([0-9a-f]{12})/.exec(await keel(gw.url, 'prompts', 'push', files.v2))?.[1];
    const v3 = /@([0-9a-f]{12})/.exec(await keel(gw.url, 'prompts', 'push', files.v3))?.[1];
    assert.ok(v2 && v3 && v2 !== v1 && v3 !== v1);
    await keel(gw.url, 'prompts', 'promote', 'support-reply', v2, '--label', 'canary');
    await keel(gw.url, 'prompts', 'promote', 'support-reply', v3, '--label', 'staging');

    // 400 users, each asking twice: the canary share is near 10% and every user sees one version.
    const seen = new Map<string, string>();
    for (let batch = 0; batch < 20; batch++) {
      const users = Array.from({ length: 20 }, (_, i) => `user-${batch * 20 + i}`);
      const answers = await Promise.all(users.flatMap((u) => [ask(u), ask(u)]));
      answers.forEach((a, i) => {
        const user = users[Math.floor(i / 2)]!;
        const before = seen.get(user);
        if (before !== undefined) assert.equal(a.prompt_version, before, `${user} saw two versions`);
        seen.set(user, a.prompt_version!);
        assert.equal(a.prompt_version, a.release_arm === 'canary' ? v2 : v1);
      });
    }
    const canaryShare = [...seen.values()].filter((v) => v === v2).length / seen.size;
    console.log(`canary share over ${seen.size} users: ${(canaryShare * 100).toFixed(1)}%`);
    assert.ok(canaryShare > 0.05 && canaryShare < 0.15, `canary share ${canaryShare}`);

    await gw.features.shadow.idle();
    const status = await keel(gw.url, 'release', 'status', 'support-reply');
    console.log(status);
    assert.match(status, new RegExp(`canary\\s+canary\\s+${v2}`));
    assert.match(status, new RegExp(`shadow\\s+candidate\\s+${v3}`));

    // Canary looks good: v2 to production. Then roll back: production is v1 again for the next request.
    await keel(gw.url, 'prompts', 'promote', 'support-reply', v2, '--label', 'production');
    const before = await ask('user-9999');
    const rollback = await keel(gw.url, 'prompts', 'rollback', 'support-reply', '--label', 'production');
    console.log(rollback);
    const afterRollback = await ask('user-9999');
    assert.equal(before.release_arm, 'baseline');
    assert.equal(before.prompt_version, v2);
    assert.equal(afterRollback.prompt_version, v1);
    const history = await keel(gw.url, 'prompts', 'history', 'support-reply', '--label', 'production');
    assert.match(history, new RegExp(`${v1}[\\s\\S]*${v2}`));
  });
});
