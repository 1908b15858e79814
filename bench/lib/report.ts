/** The bench's table: console text, markdown, and the PASS/FAIL verdicts behind both. */

export interface Row {
  metric: string;
  direct: string;
  floor: string;
  keel: string;
  ratio: string;
  target: string;
  result: '' | 'PASS' | 'FAIL';
}

export interface Verdict {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

const HEAD: Row = {
  metric: 'metric',
  direct: 'direct',
  floor: 'floor',
  keel: 'keel',
  ratio: 'keel/floor',
  target: 'target',
  result: '' as const,
};

export function textTable(rows: Row[]): string {
  const cols: Array<keyof Row> = ['metric', 'direct', 'floor', 'keel', 'ratio', 'target', 'result'];
  const all = [{ ...HEAD, result: 'result' } as unknown as Row, ...rows];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => String(r[c]).length))]));
  return all
    .map((r) =>
      cols
        .map((c, i) => (i === 0 ? String(r[c]).padEnd(width[c]!) : String(r[c]).padStart(width[c]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function markdownTable(rows: Row[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(['metric', 'direct', 'floor', 'keel', 'keel/floor', 'target', 'result']),
    line(['---', '---:', '---:', '---:', '---:', '---:', ':---:']),
    ...rows.map((r) =>
      line([r.metric, r.direct, r.floor, r.keel, r.ratio, r.target, r.result].map((c) => c || ' ')),
    ),
  ].join('\n');
}
