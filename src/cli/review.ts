/**
 * `keel review list|show|resolve|export` — the human review queue through the running gateway's admin
 * API (`--url`, `Authorization: Bearer $KEEL_ADMIN_KEY`, `--who` as the reviewer).
 */
import { writeFile } from 'node:fs/promises';
import { Argument, type Command, InvalidArgumentError } from 'commander';
import { toJsonl } from '../review/golden.ts';
import type { GoldenCase, ReviewItem, ReviewStatus } from '../review/store.ts';
import { adminCall, type ControlConn } from './control.ts';
import { table } from './traces.ts';

type Conn = ControlConn;

const when = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** What the item asked, in a few words: the last user message, else the variables. */
function question(item: ReviewItem): string {
  const user = item.input.messages?.filter((m) => m.role === 'user').at(-1);
  if (user) {
    const content = user.content;
    return typeof content === 'string'
      ? content
      : (content ?? []).map((p) => (typeof p.text === 'string' ? p.text : '')).join(' ');
  }
  return item.input.variables ? JSON.stringify(item.input.variables) : '';
}

function print(conn: Conn, value: unknown, text: () => string): void {
  console.log(conn.json ? JSON.stringify(value, null, 2) : text());
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

export function renderReviewList(items: ReviewItem[], counts: Record<ReviewStatus, number>): string {
  const summary = `${counts.open} open, ${counts.resolved} resolved, ${counts.rejected} rejected`;
  if (items.length === 0) return `no items here (${summary})`;
  const rows = items.map((i) => [
    i.id,
    when(i.createdAt),
    i.status,
    i.reason,
    i.feature ?? i.route ?? '-',
    clip(question(i), 60),
  ]);
  return `${table(['id', 'created', 'status', 'reason', 'feature', 'input'], rows)}\n\n${summary}`;
}

export function renderReviewItem(item: ReviewItem): string {
  const lines = [
    `${item.id}  ${item.status}  (${item.reason})  created ${when(item.createdAt)}`,
    ...(item.feature !== undefined ? [`feature: ${item.feature}`] : []),
    ...(item.route !== undefined ? [`route: ${item.route}`] : []),
    ...(item.traceId !== undefined ? [`trace: ${item.traceId}  (keel traces show ${item.traceId})`] : []),
    ...(item.promptVersion !== undefined ? [`prompt version: ${item.promptVersion}`] : []),
    ...(item.tags?.length ? [`tags: ${item.tags.join(', ')}`] : []),
    '',
    'input:',
  ];
  if (item.input.variables) lines.push(`  variables: ${JSON.stringify(item.input.variables)}`);
  for (const m of item.input.messages ?? []) lines.push(`  [${m.role}] ${asText(m.content)}`);
  if (item.contexts?.length) {
    lines.push('', 'contexts:', ...item.contexts.map((c, i) => `  ${i + 1}. ${clip(c, 200)}`));
  }
  if (item.output !== undefined) lines.push('', 'answer given:', `  ${asText(item.output)}`);
  if (item.validation !== undefined) lines.push('', `validation: ${JSON.stringify(item.validation)}`);
  if (item.status !== 'open') {
    lines.push('', `${item.status} by ${item.resolvedBy ?? '?'} at ${when(item.resolvedAt)}`);
    if (item.answer !== undefined) lines.push(`expected answer: ${asText(item.answer)}`);
    if (item.note !== undefined) lines.push(`note: ${item.note}`);
  }
  return lines.join('\n');
}

export function registerReviewCommands(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--url <url>', 'the running gateway', 'http://127.0.0.1:8080')
      .option('--who <name>', 'who you are, recorded as the reviewer (default $USER)')
      .option('--json', 'print JSON');
  const id = (value: string) => encodeURIComponent(value);

  const review = program
    .command('review')
    .description('the human review queue: escalated and flagged answers');

  common(
    review
      .command('list')
      .description('items, newest first')
      .addArgument(
        new Argument('[status]', 'which items')
          .choices(['open', 'resolved', 'rejected', 'all'])
          .default('open'),
      )
      .option('--limit <n>', 'at most 1000', positiveInt, 50),
  ).action(async (status: string, opts: Conn & { limit: number }) => {
    const query = new URLSearchParams({ status, limit: String(opts.limit) });
    const answer = await adminCall<{ items: ReviewItem[]; counts: Record<ReviewStatus, number> }>(
      opts,
      'GET',
      `/admin/review?${query}`,
    );
    print(opts, answer, () => renderReviewList(answer.items, answer.counts));
  });

  common(
    review.command('show <id>').description('one item: input, contexts, the answer given, validation'),
  ).action(async (itemId: string, opts: Conn) => {
    const { item } = await adminCall<{ item: ReviewItem }>(opts, 'GET', `/admin/review/${id(itemId)}`);
    print(opts, item, () => renderReviewItem(item));
  });

  common(
    review
      .command('resolve <id>')
      .description('close an item with the right answer (it becomes a golden case), or reject it')
      .option('--answer <text>', 'the answer it should have given')
      .option('--reject', 'not worth an answer: close without one')
      .option('--note <text>', 'why, for the record'),
  ).action(async (itemId: string, opts: Conn & { answer?: string; reject?: boolean; note?: string }) => {
    if ((opts.answer === undefined) === (opts.reject === undefined)) {
      throw new Error('give exactly one of --answer TEXT or --reject');
    }
    const body = {
      ...(opts.reject ? { reject: true } : { answer: opts.answer }),
      ...(opts.note !== undefined ? { note: opts.note } : {}),
    };
    const { item } = await adminCall<{ item: ReviewItem }>(
      opts,
      'POST',
      `/admin/review/${id(itemId)}/resolve`,
      body,
    );
    print(opts, item, () =>
      item.status === 'rejected'
        ? `rejected ${item.id}`
        : `resolved ${item.id}: it will export as a golden case (keel review export)`,
    );
  });

  common(
    review
      .command('export')
      .description('resolved items as golden-dataset JSONL for the eval harness')
      .option('--out <file>', 'write to a file instead of stdout')
      .option('--ids <a,b>', 'only these items (each must be resolved)'),
  ).action(async (opts: Conn & { out?: string; ids?: string }) => {
    const query = new URLSearchParams({
      format: 'json',
      ...(opts.ids !== undefined ? { ids: opts.ids } : {}),
    });
    const { cases } = await adminCall<{ cases: GoldenCase[] }>(opts, 'GET', `/admin/review/export?${query}`);
    const jsonl = toJsonl(cases);
    if (opts.out === undefined) {
      process.stdout.write(jsonl);
      return;
    }
    await writeFile(opts.out, jsonl);
    console.error(`wrote ${cases.length} golden case${cases.length === 1 ? '' : 's'} to ${opts.out}`);
  });
}
