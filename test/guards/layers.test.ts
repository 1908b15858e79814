import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const src = new URL('../../src/', import.meta.url).pathname;
const guards = join(src, 'guards');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('src/guards imports only src/core, src/telemetry and itself, and no network module', () => {
  const violations: string[] = [];
  for (const file of files(guards)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (/^(?:node:)?(?:http|https|net|dgram|tls|dns|child_process)$/.test(spec))
        violations.push(`${file}: ${spec}`);
      if (!spec.startsWith('.')) continue;
      const top = relative(src, join(file, '..', spec)).split('/')[0]!;
      if (!['core', 'telemetry', 'guards'].includes(top))
        violations.push(`${relative(src, file)} imports ${top}/`);
    }
  }
  assert.deepEqual(violations, []);
});
