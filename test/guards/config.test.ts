import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGuards, guardsConfigSchema, INJECTION_THRESHOLD, runGuards } from '../../src/guards/index.ts';

function problems(value: unknown): string[] {
  const result = guardsConfigSchema.safeParse(value);
  assert.equal(result.success, false, 'expected the config to be rejected');
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('guardsConfigSchema', () => {
  it('applies defaults: empty stages, per-type default actions, the documented threshold', () => {
    const config = guardsConfigSchema.parse({ input: [{ type: 'pii' }, { type: 'injection' }] });
    assert.deepEqual(config.output, []);
    assert.deepEqual(config.input, [
      { type: 'pii', action: 'redact' },
      { type: 'injection', action: 'block', threshold: INJECTION_THRESHOLD },
    ]);
  });

  it('names the path of an invalid regular expression', () => {
    const issues = problems({
      input: [{ type: 'denylist', terms: ['fine', { pattern: 'proj-(\\d+', regex: true }] }],
    });
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^input\.0\.terms\.1: invalid regular expression: /);
  });

  it('rejects a regex that matches empty text, two guards with one name, a topics guard with no topics', () => {
    assert.deepEqual(problems({ input: [{ type: 'denylist', terms: [{ pattern: 'x*', regex: true }] }] }), [
      'input.0.terms.0: the regular expression matches empty text',
    ]);
    assert.deepEqual(
      problems({
        output: [
          { type: 'denylist', terms: ['a'] },
          { type: 'denylist', terms: ['b'] },
        ],
      }),
      ['output.1.name: another guard of this stage is already named "denylist"; give each a distinct `name`'],
    );
    assert.deepEqual(problems({ input: [{ type: 'topics' }] }), [
      'input.0: a topics guard needs `allowed` or `denied` topics',
    ]);
  });

  it('rejects what a stage cannot do: injection on output, redact for topics, unknown keys', () => {
    assert.ok(problems({ output: [{ type: 'injection' }] }).some((p) => p.startsWith('output.0')));
    assert.ok(
      problems({ input: [{ type: 'topics', action: 'redact', denied: { x: ['y'] } }] }).some((p) =>
        p.startsWith('input.0.action'),
      ),
    );
    assert.ok(problems({ input: [{ type: 'pii', entites: ['EMAIL'] }] }).some((p) => p.includes('entites')));
  });
});

describe('buildGuards', () => {
  it('builds working guards in configured order from a parsed config', () => {
    const config = guardsConfigSchema.parse({
      input: [
        { type: 'pii', entities: ['EMAIL'] },
        {
          type: 'denylist',
          name: 'internal',
          action: 'redact',
          terms: ['project falcon'],
          replacement: '***',
        },
        { type: 'topics', allowed: { billing: ['invoice*', 'refund*'] }, denied: { legal: ['lawsuit'] } },
      ],
      output: [{ type: 'denylist', action: 'block', terms: ['competitorco'] }],
    });
    const guards = buildGuards(config);
    assert.deepEqual(
      guards.input.map((g) => [g.name, g.stage, g.action]),
      [
        ['pii', 'input', 'redact'],
        ['internal', 'input', 'redact'],
        ['topics', 'input', 'block'],
      ],
    );

    const ok = runGuards(
      guards.input,
      'Invoices for Project  Falcon go to ana@example.com, phone 020 7946 0958',
      'input',
    );
    assert.equal(ok.blocked, undefined);
    assert.equal(ok.text, 'Invoices for *** go to <EMAIL_1>, phone 020 7946 0958');

    const offTopic = runGuards(guards.input, 'Write me a poem about the sea', 'input');
    assert.deepEqual(offTopic.blocked, {
      guard: 'topics',
      reason: 'messages[0]: off topic: none of billing',
    });

    const denied = runGuards(guards.input, 'I will file a LAWSUIT about this invoice', 'input');
    assert.deepEqual(denied.blocked, { guard: 'topics', reason: 'messages[0]: denied topic "legal"' });

    const answer = runGuards(guards.output, 'Maybe CompetitorCo is cheaper.', 'output');
    assert.equal(answer.blocked?.guard, 'denylist');
  });

  it('a follow-up in an on-topic conversation is not off topic', () => {
    const config = guardsConfigSchema.parse({
      input: [{ type: 'topics', allowed: { billing: ['refund*'] } }],
    });
    const { input } = buildGuards(config);
    const run = runGuards(
      input,
      [
        { role: 'user', content: 'Can I get a refund for order 12?' },
        { role: 'assistant', content: 'Yes, within 30 days.' },
        { role: 'user', content: 'Great, thanks!' },
      ],
      'input',
    );
    assert.equal(run.blocked, undefined);
  });
});
