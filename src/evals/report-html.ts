/**
 * The HTML report: one self-contained page (inline CSS, no script, no external asset) with the gate's
 * verdict and, per case, worst first, the input, the expected answer, the baseline and candidate outputs
 * side by side with their scores, and a word diff between them. Every piece of run text is escaped.
 */
import type { EvalCase } from './case.ts';
import { messageText } from './case.ts';
import type { MetricVerdict } from './gate.ts';
import { num, signed } from './report.ts';
import { type CaseRow, caseRows, type ReportInput } from './report-cases.ts';
import type { RunResult } from './run-files.ts';
import { isScoreError } from './scorers/scorer.ts';
import { wordDiff } from './text-diff.ts';

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const esc = escapeHtml;

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d1d1f}
h1 .pass{color:#137333}h1 .fail{color:#b3261e}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
td:first-child,th:first-child,td.why,th.why{text-align:left}td.num{white-space:nowrap}tr.fail td{background:#fdecea}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;margin:.25rem 0;border-radius:4px}
details.case{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.25rem .75rem}
details.case>summary{cursor:pointer;font-weight:600}
.chip{display:inline-block;font-weight:400;font-size:12px;padding:0 .4rem;margin-left:.4rem;border-radius:8px;background:#eee}
.chip.down{background:#fdecea}.chip.up{background:#e6f4ea}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
del{background:#fdecea;color:#8c1d18}ins{background:#e6f4ea;color:#0d652d;text-decoration:none}
.err{color:#b3261e}.muted{color:#666}`;

/** @example writeFileSync('report.html', renderHtml({ verdict, candidate, baseline, cases })) */
export function renderHtml(input: ReportInput, options: { title?: string } = {}): string {
  const { verdict, candidate, baseline } = input;
  const title = options.title ?? 'Eval report';
  const casesById = new Map((input.cases ?? []).map((c) => [c.id, c]));
  const rows = caseRows(input);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}: <span class="${verdict.pass ? 'pass' : 'fail'}">${verdict.pass ? 'PASS' : 'FAIL'}</span></h1>
<p>Candidate <b>${esc(candidate.config.target)}</b> on <code>${esc(candidate.config.dataset.name)}@${esc(candidate.config.dataset.version)}</code>, ${candidate.config.repeat}× repeat${
    baseline
      ? `; baseline <b>${esc(baseline.config.target)}</b> on <code>${esc(baseline.config.dataset.name)}@${esc(baseline.config.dataset.version)}</code>`
      : ''
  }.</p>
${metricTable(verdict.metrics)}
<h2>Cases <span class="muted">(${rows.length}, largest drop first)</span></h2>
${rows.map((row) => caseSection(row, casesById.get(row.caseId), baseline !== undefined)).join('\n')}
</body></html>
`;
}

function metricTable(metrics: MetricVerdict[]): string {
  const body = metrics
    .map((m) => {
      const c = m.comparison;
      return `<tr class="${m.pass ? 'pass' : 'fail'}"><td>${esc(m.metric)}</td><td>${num(m.baseline?.mean)}</td><td>${num(m.candidate.mean)}</td><td>${c ? signed(c.meanDiff) : '–'}</td><td class="num">${c ? `[${signed(c.ci[0])}, ${signed(c.ci[1])}]` : '–'}</td><td>${c ? c.n : m.candidate.cases}</td><td>${m.candidate.errors}</td><td>${m.pass ? 'pass' : 'fail'}</td><td class="why">${esc([...m.failures, ...m.notes].join('; '))}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>metric</th><th>baseline</th><th>candidate</th><th>diff</th><th>CI</th><th>n</th><th>errors</th><th>result</th><th class="why">why</th></tr></thead><tbody>
${body}
</tbody></table>`;
}

function caseSection(row: CaseRow, evalCase: EvalCase | undefined, hasBaseline: boolean): string {
  const chips = Object.entries(row.metrics)
    .map(([metric, v]) => {
      const cls = v.diff === undefined ? '' : v.diff < 0 ? ' down' : v.diff > 0 ? ' up' : '';
      const text = hasBaseline ? `${num(v.baseline)} → ${num(v.candidate)}` : num(v.candidate);
      return `<span class="chip${cls}">${esc(metric)} ${text}</span>`;
    })
    .join('');
  const first = (results: RunResult[]) => results[0];
  const b = first(row.baseline);
  const c = first(row.candidate);
  const diff =
    hasBaseline && b && c
      ? `<h4>Diff, baseline → candidate (repeat ${b.repeat} vs ${c.repeat})</h4><pre>${wordDiff(
          b.output,
          c.output,
        )
          .map((p) =>
            p.op === 'same'
              ? esc(p.text)
              : p.op === 'del'
                ? `<del>${esc(p.text)}</del>`
                : `<ins>${esc(p.text)}</ins>`,
          )
          .join('')}</pre>`
      : '';
  return `<details class="case"${row.delta < 0 ? ' open' : ''}><summary>${esc(row.caseId)}${chips}</summary>
${evalCase ? caseInput(evalCase) : ''}
<div class="${hasBaseline ? 'cols' : ''}">
${hasBaseline ? `<div><h4>Baseline</h4>${runs(row.baseline)}</div>` : ''}
<div><h4>Candidate</h4>${runs(row.candidate)}</div>
</div>
${diff}
</details>`;
}

function caseInput(evalCase: EvalCase): string {
  const parts: string[] = [];
  if (evalCase.input.messages)
    parts.push(
      `<h4>Input</h4><pre>${esc(evalCase.input.messages.map((m) => `${m.role}: ${messageText(m)}`).join('\n'))}</pre>`,
    );
  if (evalCase.input.variables)
    parts.push(`<h4>Variables</h4><pre>${esc(JSON.stringify(evalCase.input.variables, null, 2))}</pre>`);
  if (evalCase.expected !== undefined)
    parts.push(
      `<h4>Expected</h4><pre>${esc(typeof evalCase.expected === 'string' ? evalCase.expected : JSON.stringify(evalCase.expected, null, 2))}</pre>`,
    );
  if (evalCase.reference !== undefined) parts.push(`<h4>Reference</h4><pre>${esc(evalCase.reference)}</pre>`);
  return parts.join('\n');
}

function runs(results: RunResult[]): string {
  if (results.length === 0) return '<p class="muted">not run</p>';
  return results
    .map(
      (
        r,
      ) => `<div><span class="muted">repeat ${r.repeat} · ${Math.round(r.latencyMs)} ms${r.costUsd === undefined ? '' : ` · $${r.costUsd.toFixed(6)}`}</span>
${r.error === undefined ? '' : `<p class="err">invoke failed: ${esc(r.error)}</p>`}
<pre>${esc(r.output)}</pre>
<table>${Object.entries(r.scores)
        .map(([metric, s]) =>
          isScoreError(s)
            ? `<tr><td>${esc(metric)}</td><td class="err">error</td><td style="text-align:left" class="err">${esc(s.error)}</td></tr>`
            : `<tr><td>${esc(metric)}</td><td>${num(s.value)}</td><td style="text-align:left">${esc(s.detail ?? '')}</td></tr>`,
        )
        .join('')}</table></div>`,
    )
    .join('\n');
}
