import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFeatures, featureConfigSchema } from '../../src/features/config.ts';
import { checkContract } from '../../src/features/contract.ts';
import { restorePlaceholders } from '../../src/features/placeholders.ts';

const schema = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, email: { format: 'email' } },
  required: ['name', 'age'],
  additionalProperties: false,
};

function contract(strict: boolean) {
  const config = featureConfigSchema.parse({
    prompt: { name: 'p' },
    route: 'r',
    contract: { schema, strict },
  });
  const { validate } = compileFeatures({ f: config }).get('f')!;
  return (text: string) => checkContract(text, config.contract, validate);
}

describe('output contracts', () => {
  it('a valid answer yields its parsed value', () => {
    assert.deepEqual(contract(true)('{"name":"Ada","age":36}'), {
      ok: true,
      value: { name: 'Ada', age: 36 },
    });
  });

  it('schema errors read /path: message, naming missing and extra properties', () => {
    const result = contract(true)('{"age":-1.5,"extra":true,"email":"nope"}');
    assert.deepEqual(result, {
      ok: false,
      kind: 'schema',
      errors: [
        "/: must have required property 'name'",
        '/: must not have property "extra"',
        '/age: must be integer',
        '/age: must be >= 0',
        '/email: must match format "email"',
      ],
    });
  });

  it('strict: a fenced answer is not JSON; non-strict accepts one ```json fence', () => {
    const fenced = '```json\n{"name":"Ada","age":36}\n```';
    const strict = contract(true)(fenced);
    assert.equal(strict.ok, false);
    assert.equal(!strict.ok && strict.kind, 'not_json');
    assert.deepEqual(contract(false)(fenced), { ok: true, value: { name: 'Ada', age: 36 } });
    assert.equal(contract(false)('Sure! {"name":"Ada","age":36}').ok, false, 'prose is never accepted');
  });

  it('no type coercion: "36" is not an integer', () => {
    assert.equal(contract(true)('{"name":"Ada","age":"36"}').ok, false);
  });

  it('a text contract refuses only an empty answer', () => {
    assert.deepEqual(checkContract('hello', 'text'), { ok: true, value: 'hello' });
    assert.deepEqual(checkContract(' \n', 'text'), {
      ok: false,
      kind: 'empty',
      errors: ['the answer is empty'],
    });
  });
});

describe('placeholder restoring', () => {
  it('restores longest names first, once, JSON-escaped in JSON', () => {
    const map = { '<E_1>': 'a@x.io', '<E_10>': 'b "quoted"@x.io' };
    assert.equal(restorePlaceholders('<E_10> and <E_1>', map, false), 'b "quoted"@x.io and a@x.io');
    assert.equal(restorePlaceholders('{"to":"<E_10>"}', map, true), '{"to":"b \\"quoted\\"@x.io"}');
    assert.equal(restorePlaceholders('<X>', { '<X>': '<Y>', '<Y>': 'no' }, false), '<Y>');
  });
});
