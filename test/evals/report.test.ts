import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvalCase } from '../../src/evals/case.ts';
import { gate } from '../../src/evals/gate.ts';
import { formatJson, formatMarkdown, formatTable } from '../../src/evals/report.ts';
import type { ReportInput } from '../../src/evals/report-cases.ts';
import { renderHtml } from '../../src/evals/report-html.ts';
import type { RunConfig, RunResult } from '../../src/evals/run-files.ts';
import { wordDiff } from '../../src/evals/text-diff.ts';

const config = (target: string): RunConfig => ({
  dataset: { name: 'support', version: 'abcdef012345' },
  target,
  scorers: [{ name: 'exact', kind: 'deterministic' }],
  repeat: 1,
  cases: 6,
  createdAt: '2024-06-01T00:00:00.000Z',
});

const ids = ['a', 'b', 'c', 'd', 'e', 'xss'];
const cases: EvalCase[] = ids.map((id) => ({
  id,
  input: { messages: [{ role: 'user', content: `question <${id}>` }] },
  expected: 'The answer is 42',
}));

function results(values: number[], output: (id: string) => string): RunResult[] {
  return ids.map((caseId, i) => ({
    caseId,
    repeat: 0,
    output: output(caseId),
    latencyMs: 120,
    scores: {
      exact: { value: values[i]! },
      judge: i === 0 ? { error: 'judge gave no valid JSON' } : { value: 0.5, detail: 'ok <fine>' },
    },
    finishedAt: '',
  }));
}

function input(): ReportInput {
  const baseline = results([1, 1, 1, 1, 1, 1], () => 'The answer is 42');
  const candidate = results([0, 0, 0, 0, 0, 0], (id) =>
    id === 'xss' ? '<script>alert("x")</script> & more' : 'The answer is 41',
  );
  const verdict = gate({
    candidate,
    baseline,
    metrics: { exact: { min: 0.5 }, judge: {} },
    maxErrorRate: 0.2,
  });
  return {
    verdict,
    candidate: { config: config('model-b'), results: candidate },
    baseline: { config: config('model-a'), results: baseline },
    cases,
  };
}

test('the terminal table has one aligned row per metric, the failing reason and the verdict', () => {
  const text = formatTable(input().verdict);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^metric\s+baseline\s+candidate\s+diff\s+CI\s+n\s+errors\s+min\s+result$/);
  assert.match(
    lines[2]!,
    /^exact\s+1\.000\s+0\.000\s+-1\.000\s+\[-1\.000, -1\.000\]\s+6\s+0\s+0\.500\s+FAIL$/,
  );
  assert.match(lines[3]!, /^judge\s+0\.500\s+0\.500\s+\+0\.000 .*\s+5\s+1\s+–\s+PASS$/);
  assert.equal(lines[2]!.indexOf('FAIL'), lines[3]!.indexOf('PASS'), 'columns align');
  assert.match(text, /exact: mean 0\.000 < threshold 0\.500/);
  assert.match(text, /gate: FAIL\n$/);
});

test('markdown for a PR comment: verdict, table, reasons and the cases that dropped most', () => {
  const text = formatMarkdown(input(), { worst: 2 });
  assert.match(text, /^### ❌ Eval gate: failed/);
  assert.match(
    text,
    /Candidate \*\*model-b\*\* on `support@abcdef012345` \(1× repeat\) vs baseline \*\*model-a\*\*\./,
  );
  assert.match(
    text,
    /\| exact \| 1\.000 \| 0\.000 \| -1\.000 \| \[-1\.000, -1\.000\] \| 6 \| 0 \| 0\.500 \| ❌ fail \|/,
  );
  assert.match(
    text,
    /- `exact`: mean 0\.000 &lt; threshold 0\.500; regression: 95% CI of the difference \[-1\.000, -1\.000\] over 6 cases lies below −0\.020\n/,
  );
  assert.match(text, /<summary>Cases that dropped most<\/summary>/);
  assert.equal(text.match(/\| `[a-z]+` \| exact 1\.000 → 0\.000 \|/g)?.length, 2, 'worst: 2 rows');
});

test('JSON carries the verdict and both configs', () => {
  const parsed = JSON.parse(formatJson(input()));
  assert.equal(parsed.pass, false);
  assert.equal(parsed.candidate.target, 'model-b');
  assert.equal(parsed.baseline.target, 'model-a');
  assert.deepEqual(
    parsed.metrics.map((m: { metric: string; pass: boolean }) => [m.metric, m.pass]),
    [
      ['exact', false],
      ['judge', true],
    ],
  );
});

test('the HTML page is self-contained, escapes run text and shows a word diff per case', () => {
  const html = renderHtml(input(), { title: 'Support <eval>' });
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|<link|src=/i, 'no script and no external asset');
  assert.match(html, /<title>Support &lt;eval&gt;<\/title>/);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; more/);
  assert.match(html, /question &lt;xss&gt;/);
  assert.match(html, /The answer is <del>42<\/del><ins>41<\/ins>/);
  assert.match(html, /class="err">judge gave no valid JSON/);
  assert.match(html, /ok &lt;fine&gt;/);
  assert.equal(html.match(/<details class="case"/g)?.length, 6);
});

test('wordDiff keeps common words and marks the rest', () => {
  assert.deepEqual(wordDiff('the cat sat', 'the dog sat'), [
    { op: 'same', text: 'the ' },
    { op: 'del', text: 'cat' },
    { op: 'add', text: 'dog' },
    { op: 'same', text: ' sat' },
  ]);
  assert.deepEqual(wordDiff('', 'new'), [{ op: 'add', text: 'new' }]);
});
