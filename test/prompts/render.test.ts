import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KeelError } from '../../src/core/errors.ts';
import { PromptFileError, PromptVariableError } from '../../src/prompts/errors.ts';
import { renderPrompt } from '../../src/prompts/render.ts';
import { parsePromptFile, parsePromptObject } from '../../src/prompts/schema.ts';
import { promptBody, versionId } from '../../src/prompts/version-id.ts';
import { SUPPORT_V1 } from './fixtures.ts';

const prompt = parsePromptFile(SUPPORT_V1);

function variableError(variables: unknown): PromptVariableError {
  try {
    renderPrompt(prompt, variables);
  } catch (err) {
    assert.ok(err instanceof PromptVariableError, String(err));
    return err;
  }
  assert.fail('rendered without an error');
}

function fileError(text: string): string[] {
  try {
    parsePromptFile(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof PromptFileError, String(err));
    assert.match(err.message, /^invalid prompt file test\.yaml: /);
    return err.issues;
  }
  assert.fail('parsed without an error');
}

describe('renderPrompt', () => {
  test('substitutes variables, fills defaults, leaves optional ones empty', () => {
    const messages = renderPrompt(prompt, { customer_name: 'Ada', question: 'Where is my order?' });
    assert.deepEqual(messages, [
      { role: 'system', content: 'Answer in a friendly tone.' },
      { role: 'user', content: 'Ada asks: Where is my order?' },
    ]);
    const formal = renderPrompt(prompt, {
      customer_name: 'Ada',
      question: 'Hi',
      tone: 'formal',
      attempts: null,
    });
    assert.equal(formal[0]?.content, 'Answer in a formal tone.');
  });

  test('objects and arrays render as JSON; {{name.field}} reads a field', () => {
    const p = parsePromptObject({
      name: 'fields',
      variables: {
        order: { type: 'object' },
        items: { type: 'array' },
        n: { type: 'number' },
        ok: { type: 'boolean' },
      },
      messages: [
        {
          role: 'user',
          content: '{{order.id}} / {{order.customer.name}} / {{order}} / {{items}} / {{n}} / {{ok}}',
        },
      ],
    });
    const [m] = renderPrompt(p, {
      order: { id: 7, customer: { name: 'Ada' } },
      items: ['a', 1],
      n: 2.5,
      ok: false,
    });
    assert.equal(m?.content, '7 / Ada / {"id":7,"customer":{"name":"Ada"}} / ["a",1] / 2.5 / false');
    const err = (() => {
      try {
        renderPrompt(p, { order: { id: 7 }, items: [], n: 1, ok: true });
      } catch (e) {
        return e as PromptVariableError;
      }
    })();
    assert.equal(err?.variable, 'order.customer');
    assert.equal(err?.message, 'variables.order.customer: field is missing');
  });

  test('a missing required variable is named', () => {
    const err = variableError({ question: 'q' });
    assert.equal(err.variable, 'customer_name');
    assert.equal(err.message, 'variables.customer_name: required variable is missing');
    assert.ok(err instanceof KeelError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'KEEL_INVALID_REQUEST');
    assert.equal(err.param, 'variables.customer_name');
  });

  test('a wrong type is named with what was given', () => {
    assert.equal(
      variableError({ customer_name: 42, question: 'q' }).message,
      'variables.customer_name: expected a string, got 42',
    );
    assert.equal(
      variableError({ customer_name: 'a', question: 'q', attempts: 1.5 }).message,
      'variables.attempts: expected an integer, got 1.5',
    );
    assert.equal(
      variableError({ customer_name: 'a', question: 'q', attempts: '3' }).message,
      'variables.attempts: expected an integer, got "3"',
    );
    assert.equal(
      variableError({ customer_name: 'a', question: 'q', order: [1] }).message,
      'variables.order: expected an object, got an array',
    );
    assert.equal(
      variableError({ customer_name: 'a', question: 'q', tone: 'rude' }).message,
      'variables.tone: must be one of "formal", "friendly"; got "rude"',
    );
  });

  test('maxLength is enforced', () => {
    const err = variableError({ customer_name: 'x'.repeat(41), question: 'q' });
    assert.equal(err.message, 'variables.customer_name: longer than maxLength 40 (41 characters)');
  });

  test('an unknown variable is named, with the declared ones', () => {
    const err = variableError({ customer_name: 'a', question: 'q', custmer: 'typo' });
    assert.equal(err.variable, 'custmer');
    assert.equal(
      err.message,
      'variables.custmer: unknown variable (declared: customer_name, question, tone, order, attempts)',
    );
  });

  test('variables must be an object', () => {
    assert.equal(variableError(['a']).message, 'variables: must be an object of variable names to values');
  });

  test('a placeholder that is not declared is refused at render time too (a stored body is not trusted)', () => {
    const body = { ...promptBody(prompt), messages: [{ role: 'user' as const, content: 'hi {{ghost}}' }] };
    const err = (() => {
      try {
        renderPrompt(body, { customer_name: 'a', question: 'q' });
      } catch (e) {
        return e as PromptVariableError;
      }
    })();
    assert.equal(err?.message, 'variables.ghost: used by the template but not declared');
  });

  test('substitution is one pass: values are never expanded again', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, question) => {
        const [, user] = renderPrompt(prompt, { customer_name: name.slice(0, 40), question });
        assert.equal(user?.content, `${name.slice(0, 40)} asks: ${question}`);
      }),
    );
    const [, user] = renderPrompt(prompt, { customer_name: '{{question}}', question: '{{tone}}' });
    assert.equal(user?.content, '{{question}} asks: {{tone}}');
  });
});

describe('prompt files', () => {
  test('every problem is reported as path: problem', () => {
    const issues = fileError(`
name: bad name!
variables:
  tone: { type: enum }
  n: { type: number, maxLength: 3, default: "x" }
  "2x": { type: string }
  s: { type: strng }
messages:
  - { role: robot, content: hi }
  - { role: user, content: "" }
params: { temperature: 5, top_k: 3 }
extra: 1
`);
    const expected = [
      /^name: 1-64 letters/,
      /^variables\.tone\.values: required for type enum$/,
      /^variables\.n\.maxLength: only allowed for type string or array$/,
      /^variables\.n\.default: expected a number, got "x"$/,
      /^variables\.2x: variable names are letters, digits and "_"$/,
      /^variables\.s\.type: must be one of "string", "number"/,
      /^messages\[0\]\.role: must be one of "system", "user", "assistant"$/,
      /^messages\[1\]\.content: must not be empty$/,
      /^params\.temperature: must be at most 2$/,
      /^params: unknown field\(s\) top_k$/,
      /^\(root\): unknown field\(s\) extra$/,
    ];
    for (const pattern of expected)
      assert.ok(
        issues.some((i) => pattern.test(i)),
        `${pattern} in\n${issues.join('\n')}`,
      );
  });

  test('placeholders must name declared variables, and fields only of objects', () => {
    const issues = fileError(`
name: p
variables:
  tone: { type: string }
messages:
  - { role: user, content: "{{ custmer }} {{tone.x}} {{ 1 + 1 }}" }
`);
    assert.deepEqual(issues, [
      'messages[0].content: {{ custmer }} uses undeclared variable "custmer" (declared: tone)',
      'messages[0].content: {{tone.x}} reads a field of "tone", which is a string, not an object',
      'messages[0].content: {{ 1 + 1 }} is not a variable reference (write {{name}} or {{name.field}})',
    ]);
  });

  test('YAML syntax errors give line and column; duplicate keys are refused', () => {
    assert.match(fileError('name: p\nmessages: [\n')[0]!, /^line \d+, column \d+: /);
    assert.match(
      fileError('name: p\nname: q\nmessages: []\n')[0]!,
      /^line 2, column 1: Map keys must be unique/,
    );
    assert.deepEqual(fileError('- a\n- b\n'), [
      '(root): expected a mapping with name, variables and messages',
    ]);
    assert.deepEqual(fileError('name: p\n'), ['messages: required (expected array)']);
  });

  test('a default makes a variable optional; required with a default is refused', () => {
    assert.equal(prompt.variables.tone?.required, false);
    assert.equal(prompt.variables.customer_name?.required, true);
    assert.deepEqual(
      fileError(
        'name: p\nvariables:\n  t: { type: string, required: true, default: x }\nmessages: [{ role: user, content: "{{t}}" }]\n',
      ),
      ['variables.t.required: a variable with a default is not required; drop one of the two'],
    );
  });
});

describe('version ids', () => {
  test('12 hex of the content hash; the name is not part of it; defaults are normalised first', () => {
    const a = parsePromptFile(
      'name: a\nvariables:\n  x: { type: string }\nmessages: [{ role: user, content: "{{x}}" }]\n',
    );
    const b = parsePromptFile(
      'name: b\nvariables:\n  x: { type: string, required: true }\nmessages: [{ role: user, content: "{{x}}" }]\n',
    );
    const c = parsePromptFile(
      'name: a\nvariables:\n  x: { type: string }\nmessages: [{ role: user, content: "{{x}}!" }]\n',
    );
    assert.match(versionId(promptBody(a)), /^[0-9a-f]{12}$/);
    assert.equal(versionId(promptBody(a)), versionId(promptBody(b)));
    assert.notEqual(versionId(promptBody(a)), versionId(promptBody(c)));
  });

  test('key order in the file does not change the id', () => {
    const a = parsePromptObject({
      name: 'a',
      messages: [{ role: 'user', content: 'hi' }],
      params: { temperature: 0, max_tokens: 5 },
    });
    const b = parsePromptObject({
      params: { max_tokens: 5, temperature: 0 },
      messages: [{ content: 'hi', role: 'user' }],
      name: 'a',
    });
    assert.equal(versionId(promptBody(a)), versionId(promptBody(b)));
  });
});
