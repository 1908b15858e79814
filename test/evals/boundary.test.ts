import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const src = new URL('../../src/', import.meta.url).pathname;
const evals = join(src, 'evals');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

test('src/evals imports only src/core, itself, node: and npm packages (model calls are injected)', () => {
  const violations: string[] = [];
  for (const file of files(evals)) {
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      if (!spec!.startsWith('.')) continue;
      const layer = relative(src, join(file, '..', spec!)).split('/')[0];
      if (layer !== 'core' && layer !== 'evals') violations.push(`${relative(src, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});
