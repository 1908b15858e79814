import type { Command } from 'commander';
import type { Stats, StatsRow, TracePage, TraceSummary } from '../store/trace-store.ts';
import type { Span, Trace } from '../telemetry/trace.ts';

interface Conn {
  url: string;
  json?: boolean;
}

async function get<T>(conn: Conn, path: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (process.env.KEEL_ADMIN_KEY) headers.authorization = `Bearer ${process.env.KEEL_ADMIN_KEY}`;
  let res: Response;
  try {
    res = await fetch(`${conn.url.replace(/\/+$/, '')}${path}`, { headers });
  } catch {
    throw new Error(`cannot reach Keel at ${conn.url} (is it running? pass --url)`);
  }
  const body = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${res.status}: ${body.error?.message ?? 'request failed'}`);
  return body;
}

const usd = (n: number) => (n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`);
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

/** A plain aligned table: no dependency, readable in any terminal and in CI logs. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function summaryRow(t: TraceSummary): string[] {
  return [
    when(t.startedAt),
    t.id,
    t.route,
    String(t.status),
    t.decision,
    t.target ?? '-',
    `${t.durationMs} ms`,
    `${t.tokensIn}/${t.tokensOut}${t.estimated ? '~' : ''}`,
    usd(t.costUsd),
    t.user ?? '-',
  ];
}

function spanLine(s: Span, last: boolean): string {
  const branch = last ? '└─' : '├─';
  const label = s.reason === 'retry' ? `retry ${s.retry}` : s.reason;
  const timing =
    s.latencyMs === undefined
      ? ''
      : ` ${s.latencyMs} ms${s.ttftMs !== undefined ? ` (ttft ${s.ttftMs} ms)` : ''}`;
  const what =
    s.outcome === 'ok'
      ? `ok${timing}, model ${s.upstreamModel ?? '?'}, tokens ${s.tokensIn}/${s.tokensOut}${s.estimated ? ' (estimated)' : ''}, ${usd(s.costUsd)}`
      : s.outcome === 'skipped'
        ? 'skipped: breaker open'
        : `${s.outcome}${timing}: ${s.errorCode ?? ''} ${s.errorMessage ?? ''}`.trim();
  return `  ${branch} ${label} → ${s.target} (${s.provider}): ${what}${s.chaos ? ` [chaos: ${s.chaos}]` : ''}`;
}

/** The decision path as a tree a person reads in seconds. */
export function renderTrace(t: Trace): string {
  const lines = [
    `trace ${t.id}  ${when(t.startedAt)}  ${t.durationMs} ms`,
    `  route ${t.route}${t.feature ? `  feature ${t.feature}` : ''}  ${t.endpoint}${t.stream ? ' (stream)' : ''}`,
    `  caller: user ${t.user ?? '-'}  session ${t.session ?? '-'}  key ${t.key ?? '-'}`,
    `  answer: ${t.status} ${t.outcome}${t.errorCode ? ` ${t.errorCode}` : ''}  decision ${t.decision}  by ${t.target ?? '-'} (${t.upstreamModel ?? '-'})`,
    `  cost ${usd(t.costUsd)}  tokens in ${t.tokensIn} out ${t.tokensOut} cached ${t.tokensCached}${t.estimated ? ' (estimated)' : ''}`,
    'attempts:',
    ...t.spans.map((s, i) => spanLine(s, i === t.spans.length - 1)),
    'decision path:',
    ...t.decisionPath.map((p, i) => `  ${i + 1}. ${p}`),
  ];
  const slots = Object.entries(t.slots).filter(([, v]) => v !== undefined);
  if (slots.length > 0) lines.push('slots:', ...slots.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`));
  if (t.request !== undefined)
    lines.push('request (redacted):', `  ${JSON.stringify(t.request).slice(0, 2000)}`);
  if (t.response !== undefined)
    lines.push('response (redacted):', `  ${JSON.stringify(t.response).slice(0, 2000)}`);
  return lines.join('\n');
}

function statsRows(rows: StatsRow[]): string[][] {
  return rows.map((r) => [
    r.name,
    String(r.requests),
    `${(100 * r.successRate).toFixed(1)}%`,
    `${r.p50Ms}`,
    `${r.p95Ms}`,
    `${r.p99Ms}`,
    `${(100 * r.fallbackRate).toFixed(1)}%`,
    usd(r.costUsd),
  ]);
}

export function renderStats(stats: Stats & { window: string }): string {
  const head = ['name', 'requests', 'success', 'p50 ms', 'p95 ms', 'p99 ms', 'fallback', 'cost'];
  return [
    `last ${stats.window} (${when(stats.since)} → ${when(stats.until)})`,
    table(head, statsRows([stats.total])),
    '',
    'routes',
    table(head, statsRows(stats.routes)),
    '',
    'targets',
    table(head, statsRows(stats.targets)),
    ...(['keys', 'users', 'features'] as const).flatMap((kind) =>
      (stats[kind] ?? []).length > 0
        ? ['', `${kind} (costliest 50)`, table(head, statsRows(stats[kind]))]
        : [],
    ),
    ...((stats.scores ?? []).length > 0
      ? [
          '',
          'online evaluation scores (per feature and prompt version, oldest version first)',
          table(
            ['feature', 'version', 'metric', 'scored', 'mean', 'pass', 'errors', 'first seen', 'last seen'],
            stats.scores.map((r) => [
              r.feature,
              r.promptVersion,
              r.metric,
              String(r.scored),
              r.mean === null ? '-' : r.mean.toFixed(3),
              r.passRate === null ? '-' : `${(100 * r.passRate).toFixed(1)}%`,
              String(r.errors),
              when(r.firstAt),
              when(r.lastAt),
            ]),
          ),
        ]
      : []),
  ].join('\n');
}

export function registerTraceCommands(program: Command): void {
  const url = ['--url <url>', 'the running gateway', 'http://127.0.0.1:8080'] as const;
  const traces = program
    .command('traces')
    .description(
      'list recent traces (filters: --route --target --status --decision --user --session --since --text)',
    )
    .option(...url)
    .option('--route <name>')
    .option('--target <model>')
    .option('--status <status>', 'an HTTP status, ok or error')
    .option('--decision <decision>', 'primary | retry | fallback | hedge | error')
    .option('--user <id>')
    .option('--session <id>')
    .option('--since <when>', 'epoch ms, ISO time, or a window like 1h', '1h')
    .option('--text <substring>', 'search redacted bodies')
    .option('--limit <n>', 'at most 500', '20')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined> & Conn) => {
      const params = new URLSearchParams();
      for (const key of [
        'route',
        'target',
        'status',
        'decision',
        'user',
        'session',
        'since',
        'text',
        'limit',
      ]) {
        const value = opts[key];
        if (typeof value === 'string') params.set(key, value);
      }
      const page = await get<TracePage>(opts, `/admin/traces?${params}`);
      if (opts.json) {
        console.log(JSON.stringify(page, null, 2));
        return;
      }
      const head = ['time', 'id', 'route', 'status', 'decision', 'target', 'took', 'tokens', 'cost', 'user'];
      console.log(table(head, page.traces.map(summaryRow)));
      if (page.nextCursor) console.log(`(more: --json shows nextCursor)`);
    });

  traces
    .command('show <id>')
    .description('one trace: attempts and the decision path as a tree (takes --url and --json of traces)')
    .action(async (id: string) => {
      // Options given after `show` are parsed by the parent command: read them there.
      const opts = traces.opts<Conn>();
      const trace = await get<Trace>(opts, `/admin/traces/${encodeURIComponent(id)}`);
      console.log(opts.json ? JSON.stringify(trace, null, 2) : renderTrace(trace));
    });

  program
    .command('stats')
    .description('success rate, latency percentiles, fallback frequency and cost per route and target')
    .option(...url)
    .option('--window <window>', 'e.g. 15m, 1h, 7d', '1h')
    .option('--json', 'print JSON')
    .action(async (opts: Conn & { window: string }) => {
      const stats = await get<Stats & { window: string }>(
        opts,
        `/admin/stats?window=${encodeURIComponent(opts.window)}`,
      );
      console.log(opts.json ? JSON.stringify(stats, null, 2) : renderStats(stats));
    });
}
