/**
 * `keel eval run` end to end: a feature whose prompt has versions A, B and C in the registry, a mock
 * model that answers by the system prompt it is sent, and the gate over real runs through the gateway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';
import { keelEval, roleText } from './eval-cli.ts';

const CASES = 20;
const prompt = (style: string) => `
name: qa
variables:
  q: { type: string }
messages:
  - { role: system, content: "${style}" }
  - { role: user, content: "{{q}}" }
`;
const A = 'Answer the question in style A.';
const B = 'Answer the question in style B.';
const C = 'Answer the question, in the style called C.';

/** Case n's right answer; prompt B gets every odd case wrong. */
const right = (n: number) => `answer ${n}`;
const broken = (n: number) => n % 2 === 1;

describe('keel eval run: prompt versions through the gateway', () => {
  let upstream: MockUpstream;
  let gw: Gateway;
  let dir: string;
  const versions: Record<string, string> = {};

  before(async () => {
    upstream = await startMockUpstream((_n, body) => {
      const n = Number(/case (\d+)/.exec(roleText(body, 'user'))?.[1]);
      const system = roleText(body, 'system');
      return { kind: 'ok', text: system === B && broken(n) ? `I think ${n + 1}` : right(n) };
    });
    gw = await gatewayFromYaml(`
providers: { up: { type: openai, baseUrl: "${upstream.url}" } }
models: { m: { provider: up, model: m } }
routes: { main: { targets: [{ model: m, retry: { max: 0 } }] } }
features:
  qa:
    route: main
    prompt: { name: qa, label: production }
    retries: 0
`);
    for (const [key, text] of Object.entries({ A, B, C }))
      versions[key] = (await gw.prompts.push(prompt(text), { who: 'test' })).version.version;
    await gw.prompts.promote('qa', versions.A!, 'production', { who: 'test' });
    dir = mkdtempSync(join(tmpdir(), 'keel-eval-gate-'));
    const lines = Array.from({ length: CASES }, (_, n) =>
      JSON.stringify({ id: `q${n}`, input: { variables: { q: `What is case ${n}?` } }, expected: right(n) }),
    );
    writeFileSync(join(dir, 'qa.jsonl'), `${lines.join('\n')}\n`);
    const added = await keelEval(
      'dataset',
      'add',
      'qa-golden',
      join(dir, 'qa.jsonl'),
      '--root',
      join(dir, 'ds'),
    );
    assert.equal(added.code, 0, added.err);
  });

  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const common = () => [
    '--dataset',
    'qa-golden',
    '--root',
    join(dir, 'ds'),
    '--url',
    gw.url,
    '--no-progress',
  ];

  it('a version that breaks half the cases fails the gate (exit 1) and the reports name the regression', async () => {
    const sentBefore = upstream.received.length;
    const md = join(dir, 'b.md');
    const html = join(dir, 'b.html');
    const result = await keelEval(
      'run',
      ...common(),
      '--target',
      `feature:qa@${versions.B}`,
      '--baseline',
      `feature:qa@${versions.A}`,
      '--scorers',
      'exact',
      '--run-dir',
      join(dir, 'runs', 'b'),
      '--report-md',
      md,
      '--report-html',
      html,
    );
    console.log(result.out);
    assert.equal(result.code, 1, result.err);
    assert.match(result.out, /gate: FAIL/);
    assert.match(
      result.out,
      /exact: regression: 95% CI of the difference \[-\d\.\d+, -\d\.\d+\] over 20 cases/,
    );
    const row = result.out.split('\n').find((line) => line.startsWith('exact '))!;
    assert.deepEqual(row.split(/\s{2,}/).slice(0, 4), ['exact', '1.000', '0.500', '-0.500']);
    // The cases that dropped are exactly the ones prompt B gets wrong.
    const dropped = [...result.out.matchAll(/^ {2}(q\d+): exact 1\.000 → 0\.000$/gm)].map((m) => m[1]);
    assert.equal(dropped.length, 5);
    assert.ok(dropped.every((id) => broken(Number(id!.slice(1)))));
    assert.match(result.out, /10 case\(s\) dropped against the baseline/);

    const report = readFileSync(md, 'utf8');
    assert.match(report, /❌ Eval: feature:qa@\w+: failed/);
    assert.match(report, /`exact`: regression/);
    assert.match(report, /\| `q1` \| exact 1\.000 → 0\.000 \|/);
    assert.match(readFileSync(html, 'utf8'), /I think 2/);

    // Both versions ran pinned: the model saw B's and A's system prompts, 20 requests each.
    const systems = upstream.received.slice(sentBefore).map((r) => roleText(r.body, 'system'));
    assert.equal(systems.filter((s) => s === B).length, CASES);
    assert.equal(systems.filter((s) => s === A).length, CASES);
  });

  it('a version with different text but the same behaviour passes (exit 0)', async () => {
    const result = await keelEval(
      'run',
      ...common(),
      '--target',
      `feature:qa@${versions.C}`,
      '--baseline',
      `feature:qa@${versions.A}`,
      '--scorers',
      'exact',
      '--min',
      'exact=0.9',
      '--run-dir',
      join(dir, 'runs', 'c'),
    );
    console.log(result.out);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /gate: PASS/);
    assert.doesNotMatch(result.out, /dropped/);
  });

  it('the stored runs gate and report again without the gateway', async () => {
    const gateB = await keelEval('gate', '--run', join(dir, 'runs', 'b'));
    assert.equal(gateB.code, 1);
    assert.match(gateB.out, /gate: FAIL/);
    const json = join(dir, 'c.json');
    const reportC = await keelEval(
      'report',
      '--run',
      join(dir, 'runs', 'c'),
      '--json',
      json,
      '--root',
      join(dir, 'ds'),
    );
    assert.equal(reportC.code, 0, reportC.err);
    const verdict = JSON.parse(readFileSync(json, 'utf8')) as {
      pass: boolean;
      metrics: Array<{ metric: string }>;
    };
    assert.equal(verdict.pass, true);
    assert.deepEqual(
      verdict.metrics.map((m) => m.metric),
      ['exact'],
    );
    // A finished run as the baseline of another: C against B's candidate run gains on the broken cases.
    const againstB = await keelEval(
      'run',
      ...common(),
      '--target',
      `feature:qa@${versions.C}`,
      '--scorers',
      'exact',
      '--run-dir',
      join(dir, 'runs', 'c'),
      '--baseline-run',
      join(dir, 'runs', 'b'),
    );
    assert.equal(againstB.code, 0, againstB.err);
    assert.match(againstB.err, /resumed: 20 pairs were already done, 0 run now/);
    assert.match(againstB.out, /^exact\s+0\.500\s+1\.000\s+\+0\.500/m);

    const strict = await keelEval('gate', '--run', join(dir, 'runs', 'c'), '--min', 'exact=1.01');
    assert.equal(strict.code, 2);
    assert.match(strict.err, /--min <metric=x>.*between 0 and 1/);
  });

  it('eval traffic is marked with x-keel-user: keel-eval in traces', async () => {
    await gw.telemetry.recorder.drain();
    const res = await fetch(`${gw.url}/admin/traces?user=keel-eval&feature=qa&limit=200`);
    const page = (await res.json()) as { traces: Array<{ user?: string }> };
    assert.ok(page.traces.length >= CASES, `found ${page.traces.length} eval traces`);
    assert.ok(page.traces.every((t) => t.user === 'keel-eval'));
  });

  it('usage and config problems exit 2 with a message naming them', async () => {
    const unknownScorer = await keelEval(
      'run',
      ...common(),
      '--target',
      'feature:qa',
      '--scorers',
      'exact,bleu',
    );
    assert.equal(unknownScorer.code, 2);
    assert.match(unknownScorer.err, /unknown scorer "bleu"; valid: exact, contains, regex/);

    const routeNeedsMessages = await keelEval('run', ...common(), '--target', 'route:main');
    assert.equal(routeNeedsMessages.code, 2);
    assert.match(
      routeNeedsMessages.err,
      /route:main: 20 case\(s\) have only input\.variables and no input\.messages \(q0, q1/,
    );

    const unknownFeature = await keelEval('run', ...common(), '--target', 'feature:nope');
    assert.equal(unknownFeature.code, 2);
    assert.match(unknownFeature.err, /feature:nope: "feature:nope" is not served by .*features: feature:qa/);

    const badTarget = await keelEval('run', ...common(), '--target', 'qa');
    assert.equal(badTarget.code, 2);
    assert.match(badTarget.err, /expected feature:NAME, feature:NAME@VERSION, route:NAME or model:NAME/);

    const badRepeat = await keelEval('run', ...common(), '--target', 'feature:qa', '--repeat', '0');
    assert.equal(badRepeat.code, 2);
    assert.match(badRepeat.err, /--repeat <n>.*must be a positive whole number/);

    const noDataset = await keelEval(
      'run',
      '--dataset',
      'nope',
      '--root',
      join(dir, 'ds'),
      '--target',
      'feature:qa',
    );
    assert.equal(noDataset.code, 2);
    assert.match(noDataset.err, /dataset "nope" is not in/);

    const unknownMin = await keelEval('run', ...common(), '--target', 'feature:qa', '--min', 'rubric=0.8');
    assert.equal(unknownMin.code, 2);
    assert.match(unknownMin.err, /--min: no metric "rubric" among the scorers \(exact\)/);

    const down = await keelEval('run', ...common(), '--target', 'feature:qa', '--url', 'http://127.0.0.1:9');
    assert.equal(down.code, 2);
    assert.match(down.err, /cannot reach Keel at http:\/\/127\.0\.0\.1:9/);

    const judgeless = await keelEval(
      'run',
      ...common(),
      '--target',
      'feature:qa',
      '--scorers',
      'exact,rubric=be right',
    );
    assert.equal(judgeless.code, 2);
    assert.match(judgeless.err, /rubric needs --judge-route ROUTE/);
  });
});
