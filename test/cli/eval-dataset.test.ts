/**
 * `keel eval dataset add|list|show`: from a JSONL file, from traces of a running gateway (a chat call
 * and a feature call), and from the review queue's golden export.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatasetRegistry } from '../../src/evals/index.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml, waitForTrace } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';
import { keelEval, roleText } from './eval-cli.ts';

describe('keel eval dataset', () => {
  let upstream: MockUpstream;
  let gw: Gateway;
  let dir: string;
  const root = () => join(dir, 'ds');
  const registry = () => new DatasetRegistry({ root: root() });

  before(async () => {
    upstream = await startMockUpstream((_n, body) => ({
      kind: 'ok',
      text: `echo: ${roleText(body, 'user')}`,
    }));
    gw = await gatewayFromYaml(`
providers: { up: { type: openai, baseUrl: "${upstream.url}" } }
models: { m: { provider: up, model: m } }
routes: { main: { targets: [{ model: m, retry: { max: 0 } }] } }
features:
  greet:
    route: main
    messages: [{ role: user, content: "Greet {{name}}" }]
`);
    dir = mkdtempSync(join(tmpdir(), 'keel-eval-dataset-'));
  });

  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add FILE stores a version; the same content again is unchanged; list and show print it', async () => {
    const file = join(dir, 'faq.jsonl');
    writeFileSync(
      file,
      [
        '{"id":"refund","input":{"messages":[{"role":"user","content":"Refund after 40 days?"}]},"expected":"No."}',
        '{"id":"hours","input":{"variables":{"q":"opening hours"}},"expected":"9-5","tags":["faq"]}',
      ].join('\n'),
    );
    const added = await keelEval('dataset', 'add', 'faq', file, '--root', root());
    assert.equal(added.code, 0, added.err);
    const version = registry().show('faq').version;
    assert.equal(added.out, `added faq@${version} (2 cases); it is now faq@latest\n`);

    const again = await keelEval('dataset', 'add', 'faq', file, '--root', root());
    assert.match(again.out, new RegExp(`^unchanged: faq@${version} \\(2 cases\\)`));

    const list = await keelEval('dataset', 'list', '--root', root());
    assert.match(list.out, new RegExp(`^faq\\s+1\\s+${version}\\s+2\\s+-`, 'm'));

    const show = await keelEval('dataset', 'show', `faq@${version}`, '--root', root());
    assert.match(show.out, /^refund\s+Refund after 40 days\?\s+No\.\s+-$/m);
    assert.match(show.out, /^hours\s+\{"q":"opening hours"\}\s+9-5\s+faq$/m);
  });

  it('the example dataset in examples/evals is valid', async () => {
    const example = new URL('../../examples/evals/support-faq.jsonl', import.meta.url).pathname;
    const added = await keelEval('dataset', 'add', 'support-faq', example, '--root', root());
    assert.equal(added.code, 0, added.err);
    assert.match(added.out, /^added support-faq@\w{12} \(4 cases\)/);
  });

  it('a bad file or a missing source exits 2 naming the line and field', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"id":"a","input":{}}\n{"id":"b","input":{"messages":[]},"expected":3}\n');
    const bad = await keelEval('dataset', 'add', 'bad', file, '--root', root());
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad\.jsonl:1 input: needs `variables` or `messages`/);
    assert.match(bad.err, /bad\.jsonl:2 expected: must be a string or an object/);

    const none = await keelEval('dataset', 'add', 'x', '--root', root());
    assert.equal(none.code, 2);
    assert.match(none.err, /give exactly one source: FILE, --from-trace/);

    const unknownTrace = await keelEval(
      'dataset',
      'add',
      'x',
      '--from-trace',
      'req_nope',
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(unknownTrace.code, 2);
    assert.match(unknownTrace.err, /404: no trace with id "req_nope"/);
  });

  it('--from-trace turns a chat trace and a feature trace into cases, added to the latest version', async () => {
    const chat = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'where is my parcel' }] }),
    });
    assert.equal(chat.status, 200);
    const chatId = chat.headers.get('x-request-id')!;
    const feature = await fetch(`${gw.url}/v1/features/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ variables: { name: 'Ada' } }),
    });
    assert.equal(feature.status, 200);
    const featureId = feature.headers.get('x-request-id')!;
    await waitForTrace(gw, chatId);
    await waitForTrace(gw, featureId);

    const first = await keelEval(
      'dataset',
      'add',
      'prod',
      '--from-trace',
      chatId,
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^added prod@\w{12} \(1 cases\)/);
    const second = await keelEval(
      'dataset',
      'add',
      'prod',
      '--from-trace',
      featureId,
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(second.code, 0, second.err);

    const { cases } = registry().show('prod');
    assert.deepEqual(cases, [
      {
        id: `trace-${chatId}`,
        input: { messages: [{ role: 'user', content: 'where is my parcel' }] },
        expected: 'echo: where is my parcel',
        tags: ['trace', 'route:main'],
      },
      {
        id: `trace-${featureId}`,
        input: { variables: { name: 'Ada' } },
        expected: 'echo: Greet Ada',
        tags: ['trace', 'route:main', 'feature:greet'],
      },
    ]);
    // The feature case runs against the feature again.
    const rerun = await keelEval(
      'run',
      '--dataset',
      'prod',
      '--root',
      root(),
      '--target',
      'feature:greet',
      '--scorers',
      'exact',
      '--run-dir',
      join(dir, 'run-prod'),
      '--url',
      gw.url,
      '--no-progress',
    );
    // The chat case has no variables: the feature cannot render it, and the run says so.
    assert.match(
      rerun.err,
      /1 of 2 pairs failed to get an answer \(case trace-req_\w+: 400: variables\.name/,
    );
  });

  it('--from-review adds the resolved items of the review queue (all, or --ids)', async () => {
    const enqueue = async (question: string) => {
      const res = await fetch(`${gw.url}/admin/review`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          reason: 'flagged',
          feature: 'greet',
          input: { variables: { name: question } },
          output: 'bad answer',
          contexts: ['a policy line'],
        }),
      });
      return ((await res.json()) as { item: { id: string } }).item.id;
    };
    const resolve = (id: string, answer: string) =>
      fetch(`${gw.url}/admin/review/${id}/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ answer }),
      });
    const empty = await keelEval(
      'dataset',
      'add',
      'reviewed',
      '--from-review',
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(empty.code, 2);
    assert.match(empty.err, /no resolved items to export/);

    const one = await enqueue('Grace');
    const two = await enqueue('Linus');
    const open = await enqueue('Ken');
    await resolve(one, 'Hello Grace!');
    await resolve(two, 'Hello Linus!');

    const picked = await keelEval(
      'dataset',
      'add',
      'reviewed',
      '--from-review',
      '--ids',
      one,
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(picked.code, 0, picked.err);
    assert.deepEqual(
      registry()
        .show('reviewed')
        .cases.map((c) => c.id),
      [one],
    );
    const all = await keelEval(
      'dataset',
      'add',
      'reviewed',
      '--from-review',
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(all.code, 0, all.err);
    const { cases } = registry().show('reviewed');
    assert.deepEqual(
      cases.map((c) => [c.id, c.expected, c.input.variables?.name]),
      [
        [one, 'Hello Grace!', 'Grace'],
        [two, 'Hello Linus!', 'Linus'],
      ],
    );
    assert.deepEqual(cases[0]!.contexts, ['a policy line']);
    assert.ok(cases[0]!.tags?.includes('feature:greet'));

    const notResolved = await keelEval(
      'dataset',
      'add',
      'reviewed',
      '--from-review',
      '--ids',
      open,
      '--root',
      root(),
      '--url',
      gw.url,
    );
    assert.equal(notResolved.code, 2);
    assert.match(notResolved.err, new RegExp(`review item ${open} is open: only resolved items export`));
  });
});

describe('eval targets', () => {
  it('parses feature, pinned feature, route and model targets; refuses anything else by name', async () => {
    const { parseTarget } = await import('../../src/cli/eval-target.ts');
    assert.deepEqual(parseTarget('feature:qa'), { kind: 'feature', name: 'qa', text: 'feature:qa' });
    assert.deepEqual(parseTarget('feature:qa@abc123'), {
      kind: 'feature',
      name: 'qa',
      version: 'abc123',
      text: 'feature:qa@abc123',
    });
    assert.deepEqual(parseTarget('route:chat'), { kind: 'route', name: 'chat', text: 'route:chat' });
    assert.deepEqual(parseTarget('model:backup'), {
      kind: 'route',
      name: 'model:backup',
      text: 'model:backup',
    });
    assert.throws(
      () => parseTarget('chat'),
      /expected feature:NAME, feature:NAME@VERSION, route:NAME or model:NAME/,
    );
  });
});
