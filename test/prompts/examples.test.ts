import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { diffPrompts } from '../../src/prompts/diff.ts';
import { renderPrompt } from '../../src/prompts/render.ts';
import { parsePromptFile } from '../../src/prompts/schema.ts';
import { promptBody, versionId } from '../../src/prompts/version-id.ts';

const example = (file: string) =>
  parsePromptFile(readFileSync(new URL(`../../examples/prompts/${file}`, import.meta.url), 'utf8'), file);

test('the example prompts parse, differ, and v2 renders with what v1 callers send', () => {
  const v1 = example('support-reply.yaml');
  const v2 = example('support-reply.v2.yaml');
  assert.equal(v1.name, v2.name);
  assert.notEqual(versionId(promptBody(v1)), versionId(promptBody(v2)));
  const vars = { customer_name: 'Ada', question: 'Where is my order?' };
  assert.equal(renderPrompt(promptBody(v1), vars)[1]?.content, 'Ada asks: Where is my order?');
  const [system] = renderPrompt(promptBody(v2), { ...vars, order: { id: 'A-17', status: 'shipped' } });
  assert.match(system?.content ?? '', /Order: \{"id":"A-17","status":"shipped"\}/);
  const diff = diffPrompts(
    { name: v1.name, version: 'v1', body: promptBody(v1) },
    { name: v2.name, version: 'v2', body: promptBody(v2) },
  );
  assert.match(diff, /\n\+ {2}order:\n/);
});
