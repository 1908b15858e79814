import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const src = new URL('../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import\b[^'"]*|export\b[^'"]*\bfrom\s+)['"]([^'"]+)['"]/gm)].map(
    (m) => m[1]!,
  );
}

/** Which top-level folders each layer may import (ARCHITECTURE.md's module table). */
const allowed: Record<string, string[]> = {
  core: ['core'],
  // The config schema embeds the feature and guard schemas (zod + ajv; their modules import core only).
  config: ['core', 'config', 'features', 'guards'],
  features: ['core', 'features'],
  prompts: ['core', 'prompts', 'store'],
  review: ['core', 'review', 'store'],
  guards: ['core', 'guards', 'telemetry'],
  evals: ['core', 'evals'],
  providers: ['core', 'providers', 'config'],
  resilience: ['core', 'resilience'],
  router: ['core', 'resilience', 'providers', 'router', 'config'],
  telemetry: ['core', 'telemetry'],
  edge: ['core', 'telemetry', 'edge', 'store'],
  store: ['core', 'telemetry', 'store'],
};

/** Capabilities that take their model calls and network through injected functions or ports. */
const NO_NETWORK = new Set(['guards', 'evals', 'features', 'prompts', 'review']);
const NETWORK = /^(?:node:)?(?:http|https|http2|net|dgram|tls|dns|child_process)$|^undici$/;

test('layers import only what the architecture allows; core does no I/O; capabilities no network', () => {
  const violations: string[] = [];
  for (const file of files(src)) {
    const layer = relative(src, file).split('/')[0]!;
    for (const spec of imports(file)) {
      if (layer === 'core' && spec.startsWith('node:'))
        violations.push(`${relative(src, file)} imports ${spec}`);
      if (NO_NETWORK.has(layer) && NETWORK.test(spec))
        violations.push(`${relative(src, file)} (${layer}) imports ${spec}`);
      if (!spec.startsWith('.')) continue;
      const target = relative(src, join(file, '..', spec)).split('/')[0]!;
      const ok = allowed[layer];
      if (ok && !ok.includes(target)) violations.push(`${relative(src, file)} (${layer}) imports ${target}/`);
    }
  }
  assert.deepEqual(violations, []);
});
