import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { diffPrompts, promptYaml, unifiedDiff } from '../../src/prompts/diff.ts';
import { parsePromptFile } from '../../src/prompts/schema.ts';
import { promptBody } from '../../src/prompts/version-id.ts';
import { SUPPORT_V1, SUPPORT_V2 } from './fixtures.ts';

/** Apply a unified diff to `a` the way `patch` would, checking every context and removed line. */
function applyPatch(a: string, diff: string): string {
  const source = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let at = 0;
  const lines = diff.replace(/\n$/, '').split('\n').slice(2);
  for (const line of lines) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[1]) - (hunk[2] === '0' ? 0 : 1);
      while (at < start) out.push(source[at++]!);
      continue;
    }
    const [kind, text] = [line[0], line.slice(1)];
    if (kind === '+') out.push(text);
    else {
      assert.equal(source[at], text, `line ${at + 1} of a`);
      if (kind === ' ') out.push(text);
      at++;
    }
  }
  while (at < source.length) out.push(source[at++]!);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

const text = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

describe('unifiedDiff', () => {
  test('a change in the middle: headers, one hunk, three lines of context', () => {
    const a = text(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const b = text(['1', '2', '3', '4', 'five', '6', '7', '8', '9']);
    assert.equal(
      unifiedDiff(a, b, { from: 'p@a', to: 'p@b' }),
      ['--- p@a', '+++ p@b', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join(
        '\n',
      ),
    );
  });

  test('distant changes are separate hunks; equal texts give nothing', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const changed = lines.map((l, i) => (i === 2 || i === 25 ? `${l}!` : l));
    const diff = unifiedDiff(text(lines), text(changed), { from: 'a', to: 'b' });
    assert.equal(diff.match(/^@@/gm)?.length, 2);
    assert.equal(unifiedDiff('x\n', 'x\n', { from: 'a', to: 'b' }), '');
  });

  test('property: applying the diff to a gives b', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const diff = unifiedDiff(text(a), text(b), { from: 'a', to: 'b' });
        assert.equal(diff === '' ? text(a) : applyPatch(text(a), diff), text(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('diffPrompts', () => {
  test("shows what changed between two versions' YAML", () => {
    const v1 = parsePromptFile(SUPPORT_V1);
    const v2 = parsePromptFile(SUPPORT_V2);
    const diff = diffPrompts(
      { name: 'support-reply', version: 'aaaaaaaaaaaa', body: promptBody(v1) },
      { name: 'support-reply', version: 'bbbbbbbbbbbb', body: promptBody(v2) },
    );
    assert.match(diff, /^--- support-reply@aaaaaaaaaaaa\n\+\+\+ support-reply@bbbbbbbbbbbb\n/);
    const changes = diff.split('\n').filter((l) => /^[-+](?![-+])/.test(l));
    assert.deepEqual(changes, [
      '+  product:',
      '+    type: string',
      '+    required: true',
      '-    content: Answer in a {{tone}} tone.',
      '+    content: Answer in a {{tone}} tone about {{product}}.',
    ]);
  });

  test('the YAML shown for a version parses back to the same prompt', () => {
    const v1 = parsePromptFile(SUPPORT_V1);
    const yaml = promptYaml({ name: v1.name, body: promptBody(v1) });
    assert.match(yaml, /^name: support-reply\ndescription: /);
    assert.deepEqual(parsePromptFile(yaml), v1);
  });
});
