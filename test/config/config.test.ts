import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.ts';

const base = (routes: string, extra = '') => `
providers:
  openai: { type: openai, baseUrl: "https://api.example.test/v1", apiKeyEnv: TEST_KEY }
  sim: { type: simulated }
models:
  gpt-4o: { provider: openai, model: gpt-4o, pricing: { inputPerMTok: 2.5, outputPerMTok: 10 } }
  local: { provider: sim, model: local }
${extra}
routes:
${routes}
`;

function problems(yaml: string, env: Record<string, string> = { TEST_KEY: 'k' }): string[] {
  try {
    parseConfig(yaml, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.problem}`);
  }
  assert.fail('the config was accepted');
}

describe('config errors name the path and the fix', () => {
  const matrix: Array<[string, string, Record<string, string> | undefined, string]> = [
    [
      'an unknown model, with a suggestion',
      base('  support:\n    targets:\n      - model: local\n      - model: gpt4o'),
      undefined,
      'routes.support.targets[1].model: unknown model "gpt4o" (did you mean "gpt-4o"?)',
    ],
    [
      'an unknown provider',
      base('  r: { targets: [{ model: local }] }').replace(
        'local: { provider: sim',
        'local: { provider: simm',
      ),
      undefined,
      'models.local.provider: unknown provider "simm" (did you mean "sim"?)',
    ],
    [
      'a feature on an unknown route',
      `${base('  r: { targets: [{ model: local }] }')}
features:
  f: { route: rr, messages: [{ role: user, content: hi }] }`,
      undefined,
      'features.f.route: unknown route "rr"; routes: "r"',
    ],
    [
      'a feature whose contract is not a JSON Schema',
      `${base('  r: { targets: [{ model: local }] }')}
features:
  f: { route: r, messages: [{ role: user, content: hi }], contract: { schema: { type: objekt } } }`,
      undefined,
      'features.f.contract.schema: not a valid JSON Schema',
    ],
    [
      'a feature guard of an unknown type',
      `${base('  r: { targets: [{ model: local }] }')}
features:
  f: { route: r, messages: [{ role: user, content: hi }], guards: { input: [{ type: pi, action: redact }] } }`,
      undefined,
      'features.f.guards.input[0].type',
    ],
    [
      'a misspelt key, with a suggestion',
      base('  r:\n    targets:\n      - { model: local, timeoutMS: 100 }'),
      undefined,
      'routes.r.targets[0].timeoutMS: unknown key "timeoutMS" (did you mean "timeoutMs"?)',
    ],
    [
      'a string where a number belongs (no coercion)',
      base('  r:\n    targets:\n      - { model: local, timeoutMs: "fast" }'),
      undefined,
      'routes.r.targets[0].timeoutMs: expected number, got "fast"',
    ],
    [
      'an unset API key variable',
      base('  r: { targets: [{ model: local }] }'),
      {},
      'providers.openai.apiKeyEnv: environment variable TEST_KEY is not set (export it, or remove the provider)',
    ],
    [
      'an unset ${VAR} reference',
      base('  r: { targets: [{ model: local }] }').replace(
        'apiKeyEnv: TEST_KEY',
        'apiKey: "${MISSING_SECRET}"',
      ),
      undefined,
      'providers.openai.apiKey: environment variable MISSING_SECRET is not set (export it, or write ${MISSING_SECRET:-default})',
    ],
    [
      'a target timeout longer than the route deadline',
      base('  r:\n    deadlineMs: 1000\n    targets:\n      - { model: local, timeoutMs: 5000 }'),
      undefined,
      "routes.r.targets[0].timeoutMs: 5000 exceeds the route's deadlineMs 1000; lower it or raise deadlineMs",
    ],
    [
      'a route without targets',
      base('  r: { targets: [] }'),
      undefined,
      'routes.r.targets: a route needs at least one target',
    ],
    [
      'an unknown provider type',
      base('  r: { targets: [{ model: local }] }').replace('type: simulated', 'type: bedrock'),
      undefined,
      'providers.sim.type: ',
    ],
    [
      'binding beyond loopback without a gateway key',
      `server: { host: 0.0.0.0 }\n${base('  r: { targets: [{ model: local }] }')}`,
      undefined,
      'server.host: binding 0.0.0.0 exposes the gateway beyond this machine; set KEEL_API_KEY to require a gateway key, or bind 127.0.0.1',
    ],
    ['a YAML syntax error', 'routes: [unclosed', undefined, 'line 1: '],
    ['an empty file', '', undefined, '(root): expected a mapping with providers, models and routes'],
  ];

  for (const [name, yaml, env, expected] of matrix) {
    test(name, () => {
      const found = problems(yaml, env);
      assert.ok(
        found.some((p) => p.startsWith(expected)),
        `expected a problem starting with:\n  ${expected}\ngot:\n  ${found.join('\n  ')}`,
      );
    });
  }

  test('every problem is listed at once', () => {
    // Shape errors are all reported together; reference errors once the shape is valid.
    const shape = base(
      '  r:\n    targets:\n      - { model: local, timeoutMs: "x" }\n      - { model: local, weight: -1 }',
    );
    assert.deepEqual(
      problems(shape).map((p) => p.split(':')[0]),
      ['routes.r.targets[0].timeoutMs', 'routes.r.targets[1].weight'],
    );
    const refs = base('  r:\n    targets:\n      - { model: gpt4o }\n      - { model: nope }');
    assert.deepEqual(
      problems(refs).map((p) => p.split(':')[0]),
      ['routes.r.targets[0].model', 'routes.r.targets[1].model'],
    );
  });

  test('${VAR:-default} and ${VAR} interpolate', () => {
    const config = parseConfig(
      base('  r: { targets: [{ model: local }] }').replace(
        'https://api.example.test/v1',
        '${BASE:-https://fallback.test/v1}',
      ),
      { env: { TEST_KEY: 'k' } },
    );
    const provider = config.providers.openai;
    assert.equal(provider?.type === 'openai' && provider.baseUrl, 'https://fallback.test/v1');
  });

  test('the embedded default config is valid and needs no keys', () => {
    const config = loadConfig(undefined, {});
    assert.ok(config.routes.chat);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.server.port, 8080);
  });

  test('a missing file says so and how to fix it', () => {
    assert.throws(
      () => loadConfig('/nonexistent/keel.yaml', {}),
      /\(file\): file not found; pass an existing file with --config/,
    );
  });
});

describe('keel CLI', () => {
  const run = promisify(execFile);
  const cli = ['--import', 'tsx', 'src/cli/bin.ts'];

  test('a bad config stops the start with every problem and a non-zero exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-'));
    const file = join(dir, 'keel.yaml');
    writeFileSync(file, base('  support:\n    targets:\n      - model: gpt4o\n      - model: local'));
    const result = await run(process.execPath, [...cli, 'start', '--config', file, '--port', '0'], {
      env: { ...process.env, TEST_KEY: 'k' },
    }).then(
      () => assert.fail('the start succeeded'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /routes\.support\.targets\[0\]\.model: unknown model "gpt4o" \(did you mean "gpt-4o"\?\)/,
    );
  });

  test('keel check accepts a good config', async () => {
    const { stdout } = await run(process.execPath, [...cli, 'check']);
    assert.match(stdout, /chat: primary → backup/);
    assert.match(stdout, /config ok/);
  });

  test('refuses to bind beyond loopback without a gateway key', async () => {
    const env = { ...process.env };
    delete env.KEEL_API_KEY;
    const result = await run(process.execPath, [...cli, 'start', '--host', '0.0.0.0', '--port', '0'], {
      env,
    }).then(
      () => assert.fail('it started'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refusing to bind 0\.0\.0\.0: set KEEL_API_KEY/);
  });
});
