import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeelError } from '../../src/core/errors.ts';
import {
  compileFeatures,
  featureConfigSchema,
  featureReferenceProblems,
  featuresSchema,
} from '../../src/features/config.ts';

const issues = (value: unknown) => {
  const parsed = featureConfigSchema.safeParse(value);
  assert.equal(parsed.success, false);
  return parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('feature config', () => {
  it('applies the defaults', () => {
    const feature = featureConfigSchema.parse({ prompt: { name: 'p' }, route: 'main' });
    assert.deepEqual(feature, {
      prompt: { name: 'p', label: 'production' },
      route: 'main',
      contract: 'text',
      retries: 2,
      deadlineMs: 60_000,
      fallback: [],
      placeholders: 'restore',
    });
    const json = featureConfigSchema.parse({
      prompt: { name: 'p' },
      route: 'main',
      contract: { schema: {} },
    });
    assert.deepEqual(json.contract, { schema: {}, strict: true });
  });

  it('wants exactly one of a registry prompt or inline messages', () => {
    assert.match(issues({ route: 'main' })[0]!, /exactly one of `prompt`/);
    const both = { prompt: { name: 'p' }, messages: [{ role: 'user', content: 'x' }], route: 'main' };
    assert.match(issues(both)[0]!, /^messages: declare exactly one/);
  });

  it('names the field of a bad value', () => {
    assert.match(issues({ prompt: { name: 'p' }, route: 'r', retries: 6 })[0]!, /^retries: /);
    assert.match(
      issues({ prompt: { name: 'p' }, route: 'r', fallback: [{ nope: 1 }] })[0]!,
      /^fallback\.0: /,
    );
    assert.match(
      issues({ prompt: { name: 'p' }, route: 'r', release: { shadow: { percent: 5 } } })[0]!,
      /^release\.shadow: give the candidate/,
    );
    assert.match(
      issues({ prompt: { name: 'p' }, route: 'r', release: { canary: { percent: 101 } } })[0]!,
      /^release\.canary\.percent: /,
    );
    assert.equal(
      featuresSchema.safeParse({ 'bad name': { prompt: { name: 'p' }, route: 'r' } }).success,
      false,
    );
  });

  it('an invalid JSON Schema is a config error naming its path', () => {
    const feature = featureConfigSchema.parse({
      prompt: { name: 'p' },
      route: 'main',
      contract: { schema: { type: 'object', properties: { a: { type: 'strin' } } } },
    });
    assert.throws(
      () =>
        compileFeatures({
          ok: featureConfigSchema.parse({ prompt: { name: 'p' }, route: 'r' }),
          bad: feature,
        }),
      (err: KeelError) => {
        assert.ok(err instanceof KeelError);
        assert.equal(err.code, 'KEEL_CONFIG_INVALID');
        assert.match(err.message, /^features\.bad\.contract\.schema: not a valid JSON Schema: /);
        return true;
      },
    );
  });

  it('an unknown keyword in a schema is refused too (ajv strict)', () => {
    const feature = featureConfigSchema.parse({
      prompt: { name: 'p' },
      route: 'main',
      contract: { schema: { type: 'object', requird: ['a'] } },
    });
    assert.throws(() => compileFeatures({ f: feature }), /features\.f\.contract\.schema: .*requird/);
  });

  it('every route a feature names must exist', () => {
    const feature = featureConfigSchema.parse({
      prompt: { name: 'p' },
      route: 'main',
      fallback: [{ route: 'safe' }, { cached: true }],
      release: { shadow: { percent: 5, route: 'cheep' } },
    });
    assert.deepEqual(featureReferenceProblems({ f: feature }, new Set(['main', 'safe', 'cheap'])), [
      {
        path: 'features.f.release.shadow.route',
        problem: 'unknown route "cheep"; routes: "main", "safe", "cheap"',
      },
    ]);
  });
});
