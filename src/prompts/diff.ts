/**
 * Readable diffs between two prompt versions: a unified line diff (3 lines of context, `@@` hunk
 * headers) of each version's YAML. The longest-common-subsequence table covers what is left after the
 * common head and tail are trimmed; past 4 million cells (two wholly rewritten files of ~2000 lines)
 * the middle is shown as removed-then-added rather than spending the memory.
 */
import { stringify } from 'yaml';
import type { PromptBody } from './schema.ts';

type Op = { kind: ' ' | '-' | '+'; line: string };

const MAX_CELLS = 4_000_000;

/** The YAML a version is shown and diffed as: name first, then the body in the file's order. */
export function promptYaml(prompt: { name: string; body: PromptBody }): string {
  const { description, variables, messages, params } = prompt.body;
  const doc = {
    name: prompt.name,
    ...(description !== undefined ? { description } : {}),
    variables,
    messages,
    ...(params !== undefined ? { params } : {}),
  };
  return stringify(doc, { lineWidth: 0 });
}

function middleOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    return [
      ...a.map((line) => ({ kind: '-' as const, line })),
      ...b.map((line) => ({ kind: '+' as const, line })),
    ];
  }
  // lcs[i * (m + 1) + j] = LCS length of a[i..] and b[j..]
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

function lineOps(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const same = (line: string): Op => ({ kind: ' ', line });
  return [
    ...a.slice(0, head).map(same),
    ...middleOps(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map(same),
  ];
}

const range = (start: number, count: number) =>
  count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;

/** A unified diff of two texts; '' when they are equal. */
export function unifiedDiff(a: string, b: string, labels: { from: string; to: string }, context = 3): string {
  if (a === b) return '';
  const split = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));
  const ops = lineOps(split(a), split(b));
  const changed = ops.flatMap((op, i) => (op.kind === ' ' ? [] : [i]));
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  // Group changes whose context windows touch into one hunk.
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = changed[k]!;
    while (k + 1 < changed.length && changed[k + 1]! - end <= 2 * context) end = changed[++k]!;
    k++;
    const stop = Math.min(ops.length, end + context + 1);
    let aLine = 1;
    let bLine = 1;
    for (const op of ops.slice(0, start)) {
      if (op.kind !== '+') aLine++;
      if (op.kind !== '-') bLine++;
    }
    const hunk = ops.slice(start, stop);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${range(aLine, aCount)} +${range(bLine, bCount)} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
  }
  return `${out.join('\n')}\n`;
}

export interface DiffSide {
  name: string;
  version: string;
  body: PromptBody;
}

/** A unified diff of two versions' YAML, headed `name@version`; '' when identical. */
export function diffPrompts(a: DiffSide, b: DiffSide): string {
  return unifiedDiff(promptYaml(a), promptYaml(b), {
    from: `${a.name}@${a.version}`,
    to: `${b.name}@${b.version}`,
  });
}
