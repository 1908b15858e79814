import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { diffArgs, registerPromptCommands } from '../../src/cli/prompts.ts';
import type { AuditInput } from '../../src/edge/audit/audit.ts';
import { MemoryPromptStore } from '../../src/prompts/memory-store.ts';
import { PromptRegistry } from '../../src/prompts/registry.ts';
import { adminGuard } from '../../src/server/control-admin.ts';
import { errorHandler } from '../../src/server/errors.ts';
import { registerPromptAdmin } from '../../src/server/prompts-admin.ts';
import { runCli, servedForCli } from '../helpers/cli.ts';
import { SUPPORT_V1, SUPPORT_V2 } from './fixtures.ts';

const ADMIN = 'admin-secret';
const auth = { authorization: `Bearer ${ADMIN}` };

async function build() {
  const registry = new PromptRegistry(new MemoryPromptStore());
  const audited: AuditInput[] = [];
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler(1_000_000));
  registerPromptAdmin(app, {
    registry,
    guard: adminGuard(ADMIN),
    audit: {
      append: async (entry) => {
        audited.push(entry);
        return { id: audited.length, at: 0, reason: null, details: null, ...entry } as never;
      },
    },
  });
  await app.ready();
  return { app, registry, audited };
}

type App = FastifyInstance;

async function push(app: App, body: string | object, contentType = 'application/yaml') {
  return app.inject({
    method: 'POST',
    url: '/admin/prompts',
    headers: {
      ...auth,
      'content-type': typeof body === 'string' ? contentType : 'application/json',
      'x-keel-actor': 'ann',
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const get = (app: App, url: string) => app.inject({ method: 'GET', url, headers: auth });
const post = (app: App, url: string, payload: object) =>
  app.inject({ method: 'POST', url, headers: { ...auth, 'x-keel-actor': 'ann' }, payload });

describe('prompt admin API', () => {
  test('every endpoint needs the admin key', async () => {
    const { app } = await build();
    const endpoints: Array<[string, string]> = [
      ['POST', '/admin/prompts'],
      ['GET', '/admin/prompts'],
      ['GET', '/admin/prompts/p'],
      ['GET', '/admin/prompts/p/diff?a=x&b=y'],
      ['POST', '/admin/prompts/p/promote'],
      ['POST', '/admin/prompts/p/rollback'],
      ['GET', '/admin/prompts/p/history'],
    ];
    for (const [method, url] of endpoints) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: 'Bearer wrong' },
      });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      assert.equal(res.json().error.code, 'KEEL_UNAUTHORIZED');
    }
    await app.close();
  });

  test('push: YAML text, { yaml } or the prompt as JSON; identical content answers unchanged', async () => {
    const { app, audited } = await build();
    const created = await push(app, SUPPORT_V1);
    assert.equal(created.statusCode, 201, created.body);
    const { status, prompt } = created.json();
    assert.equal(status, 'created');
    assert.deepEqual(
      { ...prompt, createdAt: 0 },
      {
        name: 'support-reply',
        version: prompt.version,
        seq: 1,
        createdAt: 0,
        createdBy: 'ann',
        goodAt: null,
        labels: [],
      },
    );
    const again = await push(app, { yaml: SUPPORT_V1 });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().status, 'unchanged');
    assert.equal(again.json().prompt.version, prompt.version);

    const asJson = await push(app, {
      name: 'greet',
      messages: [{ role: 'user', content: 'hi {{who}}' }],
      variables: { who: { type: 'string' } },
    });
    assert.equal(asJson.statusCode, 201);
    assert.deepEqual(
      audited.map((a) => [a.who, a.action, a.subject]),
      [
        ['ann', 'prompt.push', `prompt:support-reply@${prompt.version}`],
        ['ann', 'prompt.push', `prompt:greet@${asJson.json().prompt.version}`],
      ],
    );
    await app.close();
  });

  test('an invalid prompt is a 400 naming every bad path', async () => {
    const { app } = await build();
    const res = await push(
      app,
      'name: p\nvariables:\n  t: { type: enum }\nmessages:\n  - { role: user, content: "{{x}}" }\n',
      'text/yaml',
    );
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error, {
      message:
        'invalid prompt file: variables.t.values: required for type enum; messages[0].content: {{x}} uses undeclared variable "x" (declared: t)',
      type: 'invalid_request_error',
      param: 'variables.t.values',
      code: 'KEEL_INVALID_REQUEST',
    });
    const bad = await push(app, { yaml: 3 });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.message, 'yaml: expected string, got number');
    const named = await push(app, { yaml: 'name: p\n', file: 'p.yaml' });
    assert.equal(
      named.json().error.message,
      'invalid prompt file p.yaml: messages: required (expected array)',
    );
    await app.close();
  });

  test('show, promote, history, diff, rollback', async () => {
    const { app, audited } = await build();
    const v1 = (await push(app, SUPPORT_V1)).json().prompt.version as string;
    const v2 = (await push(app, SUPPORT_V2)).json().prompt.version as string;

    const latest = await get(app, '/admin/prompts/support-reply');
    assert.equal(latest.statusCode, 200);
    assert.equal(latest.json().prompt.version, v2, 'no production label: the latest');
    assert.equal(latest.json().prompt.resolvedBy, null);
    assert.match(latest.json().prompt.yaml, /^name: support-reply\n/);
    assert.deepEqual(
      latest.json().versions.map((v: { seq: number }) => v.seq),
      [2, 1],
    );

    const promoted = await post(app, '/admin/prompts/support-reply/promote', {
      version: v1,
      reason: 'launch',
    });
    assert.deepEqual(
      [
        promoted.statusCode,
        promoted.json().status,
        promoted.json().label,
        promoted.json().version,
        promoted.json().previous,
      ],
      [200, 'promoted', 'production', v1, null],
    );
    const same = await post(app, '/admin/prompts/support-reply/promote', { version: v1 });
    assert.equal(same.json().status, 'unchanged');
    await post(app, '/admin/prompts/support-reply/promote', { version: v2, label: 'canary' });

    const byName = (await get(app, '/admin/prompts/support-reply')).json();
    assert.deepEqual(
      [byName.prompt.version, byName.prompt.resolvedBy, byName.prompt.labels],
      [v1, 'production', ['production']],
    );
    assert.equal(
      (await get(app, `/admin/prompts/${encodeURIComponent('support-reply:canary')}`)).json().prompt.version,
      v2,
    );
    assert.equal((await get(app, `/admin/prompts/support-reply@${v1}`)).json().prompt.version, v1);

    const diff = await get(app, '/admin/prompts/support-reply/diff?a=production&b=canary');
    assert.equal(diff.statusCode, 200);
    assert.deepEqual([diff.json().a.version, diff.json().b.version, diff.json().identical], [v1, v2, false]);
    assert.match(
      diff.json().diff,
      /\n\+ {4}content: Answer in a \{\{tone\}\} tone about \{\{product\}\}\.\n/,
    );

    await post(app, '/admin/prompts/support-reply/promote', { version: v2 });
    const rolled = await post(app, '/admin/prompts/support-reply/rollback', { reason: 'answers got worse' });
    assert.deepEqual([rolled.statusCode, rolled.json().version, rolled.json().previous], [200, v1, v2]);
    const none = await post(app, '/admin/prompts/support-reply/rollback', {});
    assert.equal(none.statusCode, 400);
    assert.match(none.json().error.message, /no earlier step/);

    const history = (await get(app, '/admin/prompts/support-reply/history?label=production')).json().events;
    assert.deepEqual(
      history.map((e: { action: string; version: string; who: string }) => [e.action, e.version, e.who]),
      [
        ['rollback', v1, 'ann'],
        ['promote', v2, 'ann'],
        ['promote', v1, 'ann'],
      ],
    );
    assert.equal((await get(app, '/admin/prompts/support-reply/history')).json().events.length, 4);
    assert.deepEqual(
      audited.filter((a) => a.action !== 'prompt.push').map((a) => [a.action, a.subject, a.reason]),
      [
        ['prompt.promote', 'prompt:support-reply:production', 'launch'],
        ['prompt.promote', 'prompt:support-reply:canary', undefined],
        ['prompt.promote', 'prompt:support-reply:production', undefined],
        ['prompt.rollback', 'prompt:support-reply:production', 'answers got worse'],
      ],
    );

    const list = (await get(app, '/admin/prompts')).json().prompts;
    assert.deepEqual(
      list.map((p: { name: string; versions: number; labels: object }) => [p.name, p.versions, p.labels]),
      [['support-reply', 2, { canary: v2, production: v1 }]],
    );
    await app.close();
  });

  test('misses and bad input name what is wrong', async () => {
    const { app } = await build();
    const v1 = (await push(app, SUPPORT_V1)).json().prompt.version as string;
    const cases: Array<
      [Promise<{ statusCode: number; json(): { error: { message: string } } }>, number, RegExp]
    > = [
      [get(app, '/admin/prompts/nope'), 404, /^no prompt "nope"$/],
      [
        get(app, '/admin/prompts/support-reply:canary'),
        404,
        /has no label "canary" \(it has no labels yet\)/,
      ],
      [get(app, '/admin/prompts/support-reply@000000000000'), 404, /has no version 000000000000/],
      [get(app, '/admin/prompts/support-reply@nothex'), 400, /^ref: "nothex" is not a version id/],
      [get(app, '/admin/prompts/support-reply/diff?a=x'), 400, /^b: required/],
      [post(app, '/admin/prompts/support-reply/promote', { version: '000000000000' }), 404, /has no version/],
      [
        post(app, '/admin/prompts/support-reply/promote', { version: v1, label: 'no spaces' }),
        400,
        /^label: "no spaces" is not a label/,
      ],
      [post(app, '/admin/prompts/support-reply/promote', { label: 'x' }), 400, /^version: required/],
      [post(app, '/admin/prompts/support-reply/rollback', {}), 404, /has no label "production"/],
      [get(app, '/admin/prompts/nope/history'), 404, /^no prompt "nope"$/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      assert.equal(res.statusCode, status, res.json().error.message);
      assert.match(res.json().error.message, message);
    }
    await app.close();
  });
});

describe('keel prompts CLI against a running admin API', () => {
  const served = servedForCli(build, ADMIN, 'keel-prompts-cli-');

  async function keel(...args: string[]): Promise<string> {
    return (await runCli(registerPromptCommands, [...args, '--url', served.url, '--who', 'cli-user'])).out;
  }

  test('push, list, show, promote, diff, rollback, history', async () => {
    const v1File = join(served.dir, 'v1.yaml');
    const v2File = join(served.dir, 'v2.yaml');
    writeFileSync(v1File, SUPPORT_V1);
    writeFileSync(v2File, SUPPORT_V2);

    const pushed = await keel('prompts', 'push', v1File);
    const v1 = /pushed support-reply@([0-9a-f]{12}) \(version 1\)/.exec(pushed)?.[1];
    assert.ok(v1, pushed);
    assert.match(
      await keel('prompts', 'push', v1File),
      /^unchanged: support-reply@[0-9a-f]{12} \(version 1\) already has this content$/,
    );
    const v2 = JSON.parse(await keel('prompts', 'push', v2File, '--json')).prompt.version as string;

    assert.match(
      await keel('prompts', 'list'),
      new RegExp(
        `^name\\s+versions\\s+latest\\s+labels\\s+updated\\n[- ]+\\nsupport-reply\\s+2\\s+${v2}\\s+-\\s+`,
      ),
    );

    assert.equal(
      await keel('prompts', 'promote', 'support-reply', v1!, '--reason', 'launch'),
      `support-reply:production → ${v1}`,
    );
    assert.match(await keel('prompts', 'list'), new RegExp(`production=${v1}`));
    assert.equal(
      await keel('prompts', 'promote', 'support-reply', v2, '--label', 'canary'),
      `support-reply:canary → ${v2}`,
    );

    const show = await keel('prompts', 'show', 'support-reply');
    assert.match(show, new RegExp(`^# support-reply@${v1} \\(version 1 of 2\\), via label production\\n`));
    assert.match(show, /\nname: support-reply\n/);
    assert.match(show, new RegExp(`\\n2\\s+${v2}\\s+canary\\s+`));
    assert.match(await keel('prompts', 'show', `support-reply@${v2}`), /tone about \{\{product\}\}/);

    const diff = await keel('prompts', 'diff', 'support-reply:production', ':canary');
    assert.match(diff, new RegExp(`^--- support-reply@${v1}\\n\\+\\+\\+ support-reply@${v2}\\n@@`));
    assert.match(diff, /\n\+ {2}product:/);
    assert.match(await keel('prompts', 'diff', `support-reply@${v1}`, v1!), /^identical: /);

    await keel('prompts', 'promote', 'support-reply', v2);
    assert.equal(
      await keel('prompts', 'rollback', 'support-reply', '--reason', 'regression'),
      `rolled back support-reply:production → ${v1} (was ${v2})`,
    );
    await assert.rejects(
      keel('prompts', 'rollback', 'support-reply'),
      /400: label "production" of prompt "support-reply" has no earlier step/,
    );

    const history = await keel('prompts', 'history', 'support-reply', '--label', 'production');
    const rows = history.split('\n').slice(2);
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, new RegExp(`production\\s+rollback\\s+${v1}\\s+${v2}\\s+cli-user\\s+regression`));
    assert.match(rows[2]!, new RegExp(`production\\s+promote\\s+${v1}\\s+-\\s+cli-user\\s+launch`));

    await assert.rejects(keel('prompts', 'show', 'nope'), /^Error: 404: no prompt "nope"$/);
    await assert.rejects(
      keel('prompts', 'push', join(served.dir, 'missing.yaml')),
      /cannot read .*missing\.yaml/,
    );
    writeFileSync(join(served.dir, 'broken.yaml'), 'name: broken\n');
    await assert.rejects(
      keel('prompts', 'push', join(served.dir, 'broken.yaml')),
      /^Error: 400: invalid prompt file broken\.yaml: messages: required \(expected array\)$/,
    );
  });

  test('diff arguments: one prompt, two selectors', () => {
    assert.deepEqual(diffArgs('p@aaaaaaaaaaaa', 'p:canary'), { name: 'p', a: '@aaaaaaaaaaaa', b: ':canary' });
    assert.deepEqual(diffArgs('p:production', 'bbbbbbbbbbbb'), {
      name: 'p',
      a: ':production',
      b: 'bbbbbbbbbbbb',
    });
    assert.throws(() => diffArgs('p', 'p@aaaaaaaaaaaa'), /diff compares two versions/);
    assert.throws(() => diffArgs('p@aaaaaaaaaaaa', 'q@aaaaaaaaaaaa'), /not "p" and "q"/);
  });
});
