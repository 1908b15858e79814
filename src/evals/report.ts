/**
 * Gate reports as text: a terminal table, markdown for a pull-request comment, and JSON for machines.
 * The self-contained HTML page with per-case diffs is `report-html.ts`.
 */
import type { GateVerdict, MetricVerdict } from './gate.ts';
import { caseRows, type ReportInput } from './report-cases.ts';

const HEADERS = ['metric', 'baseline', 'candidate', 'diff', 'CI', 'n', 'errors', 'min', 'result'];

function cells(m: MetricVerdict): string[] {
  const c = m.comparison;
  return [
    m.metric,
    num(m.baseline?.mean),
    num(m.candidate.mean),
    c ? signed(c.meanDiff) : '–',
    c ? `[${signed(c.ci[0])}, ${signed(c.ci[1])}]` : '–',
    c ? String(c.n) : String(m.candidate.cases),
    String(m.candidate.errors),
    m.min === undefined ? '–' : num(m.min),
    m.pass ? 'PASS' : 'FAIL',
  ];
}

/** An aligned plain-text table with one line per metric and the failing reasons below. */
export function formatTable(verdict: GateVerdict): string {
  const rows = [HEADERS, ...verdict.metrics.map(cells)];
  const widths = HEADERS.map((_, col) => Math.max(...rows.map((row) => [...row[col]!].length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  const failing = verdict.metrics.filter((m) => !m.pass);
  if (failing.length) out.push('', ...failing.flatMap((m) => m.failures.map((f) => `${m.metric}: ${f}`)));
  out.push('', verdict.pass ? 'gate: PASS' : 'gate: FAIL');
  return `${out.join('\n')}\n`;
}

/**
 * Markdown for a pull-request comment: the verdict, the metric table, why failing metrics fail, and the
 * cases that dropped most.
 */
export function formatMarkdown(input: ReportInput, options: { title?: string; worst?: number } = {}): string {
  const { verdict, candidate, baseline } = input;
  const title = options.title ?? 'Eval gate';
  const lines = [
    `### ${verdict.pass ? '✅' : '❌'} ${md(title)}: ${verdict.pass ? 'passed' : 'failed'}`,
    '',
    `Candidate **${md(candidate.config.target)}** on \`${candidate.config.dataset.name}@${candidate.config.dataset.version}\`` +
      ` (${candidate.config.repeat}× repeat)` +
      (baseline ? ` vs baseline **${md(baseline.config.target)}**.` : '.'),
    '',
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...verdict.metrics.map((m) => {
      const row = cells(m).map(md);
      row[8] = m.pass ? '✅ pass' : '❌ fail';
      return `| ${row.join(' | ')} |`;
    }),
  ];
  const failing = verdict.metrics.filter((m) => !m.pass);
  if (failing.length) {
    lines.push('', '**Why it failed**', '');
    for (const m of failing) lines.push(`- \`${m.metric}\`: ${md(m.failures.join('; '))}`);
  }
  if (baseline) {
    const worst = caseRows(input)
      .filter((row) => row.delta < 0)
      .slice(0, options.worst ?? 5);
    if (worst.length) {
      lines.push(
        '',
        '<details><summary>Cases that dropped most</summary>',
        '',
        '| case | change |',
        '| --- | --- |',
      );
      for (const row of worst) {
        const changes = Object.entries(row.metrics)
          .filter(([, v]) => v.diff !== undefined && v.diff < 0)
          .map(([metric, v]) => `${metric} ${num(v.baseline)} → ${num(v.candidate)}`);
        lines.push(`| \`${md(row.caseId)}\` | ${md(changes.join(', '))} |`);
      }
      lines.push('', '</details>');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The verdict and both runs' configs as JSON. */
export function formatJson(input: ReportInput): string {
  return `${JSON.stringify(
    {
      pass: input.verdict.pass,
      candidate: input.candidate.config,
      baseline: input.baseline?.config ?? null,
      metrics: input.verdict.metrics,
    },
    null,
    2,
  )}\n`;
}

export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toFixed(3);
}

export function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

/** Escapes text for a markdown table cell: pipes, HTML, newlines. */
function md(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('|', '\\|')
    .replace(/\r?\n/g, ' ');
}
