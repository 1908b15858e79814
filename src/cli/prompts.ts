/**
 * `keel prompts push|list|show|diff|promote|rollback|history` — the prompt registry through the running
 * gateway's admin API (`--url`, `Authorization: Bearer $KEEL_ADMIN_KEY`, `--who` as x-keel-actor).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { LabelEvent, PromptSummary } from '../prompts/store.ts';
import { adminCall, type ControlConn } from './control.ts';
import { table } from './traces.ts';

interface VersionSummary {
  name: string;
  version: string;
  seq: number;
  createdAt: number;
  createdBy: string;
  goodAt: number | null;
  labels: string[];
}

interface ShowAnswer {
  prompt: VersionSummary & { resolvedBy: string | null; yaml: string };
  versions: VersionSummary[];
}

interface DiffAnswer {
  a: { version: string; seq: number; label: string | null };
  b: { version: string; seq: number; label: string | null };
  identical: boolean;
  diff: string;
}

type Conn = ControlConn;

const when = (ms: number | null) =>
  ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const path = (name: string) => `/admin/prompts/${encodeURIComponent(name)}`;

function print(conn: Conn, value: unknown, text: () => string): void {
  console.log(conn.json ? JSON.stringify(value, null, 2) : text());
}

const labelList = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([label, version]) => `${label}=${version}`)
    .join(', ') || '-';

export function renderPromptList(prompts: PromptSummary[]): string {
  if (prompts.length === 0) return 'no prompts yet (add one: keel prompts push FILE)';
  return table(
    ['name', 'versions', 'latest', 'labels', 'updated'],
    prompts.map((p) => [p.name, String(p.versions), p.latest, labelList(p.labels), when(p.updatedAt)]),
  );
}

export function renderVersions(versions: VersionSummary[]): string {
  return table(
    ['#', 'version', 'labels', 'pushed', 'by', 'known good'],
    versions.map((v) => [
      String(v.seq),
      v.version,
      v.labels.join(',') || '-',
      when(v.createdAt),
      v.createdBy,
      when(v.goodAt),
    ]),
  );
}

export function renderHistory(events: LabelEvent[]): string {
  if (events.length === 0)
    return 'no label has moved yet (keel prompts promote NAME VERSION --label production)';
  return table(
    ['time', 'label', 'action', 'version', 'previous', 'who', 'reason'],
    events.map((e) => [when(e.at), e.label, e.action, e.version, e.previous ?? '-', e.who, e.reason ?? '']),
  );
}

/** Split `A` and `B` of `keel prompts diff A B` into one prompt name and two selectors. */
export function diffArgs(a: string, b: string): { name: string; a: string; b: string } {
  const split = (ref: string) => {
    const at = ref.search(/[@:]/);
    return at < 0 ? { name: ref, selector: '' } : { name: ref.slice(0, at), selector: ref.slice(at) };
  };
  const left = split(a);
  if (left.selector === '' || left.name === '') {
    throw new Error(
      'diff compares two versions: keel prompts diff NAME@V1 NAME@V2 (or NAME:production :staging)',
    );
  }
  const right = split(b);
  if (right.name !== '' && right.selector !== '' && right.name !== left.name) {
    throw new Error(`diff compares versions of one prompt, not "${left.name}" and "${right.name}"`);
  }
  // A bare B is a version id or a label of A's prompt.
  return { name: left.name, a: left.selector, b: right.selector === '' ? right.name : right.selector };
}

export function registerPromptCommands(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--url <url>', 'the running gateway', 'http://127.0.0.1:8080')
      .option('--who <name>', 'who you are, for label history and the audit log (default $USER)')
      .option('--json', 'print JSON');

  const prompts = program.command('prompts').description('the prompt registry: versions, labels, rollbacks');

  common(
    prompts.command('push <file>').description('store a prompt file; identical content is not stored twice'),
  ).action(async (file: string, opts: Conn) => {
    let yaml: string;
    try {
      yaml = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    const answer = await adminCall<{ status: string; prompt: VersionSummary }>(
      opts,
      'POST',
      '/admin/prompts',
      { yaml, file: basename(file) },
    );
    const p = answer.prompt;
    const labels = p.labels.length > 0 ? ` [${p.labels.join(', ')}]` : '';
    print(opts, answer, () =>
      answer.status === 'created'
        ? `pushed ${p.name}@${p.version} (version ${p.seq})\npromote it: keel prompts promote ${p.name} ${p.version} --label production`
        : `unchanged: ${p.name}@${p.version} (version ${p.seq})${labels} already has this content`,
    );
  });

  common(prompts.command('list').description('every prompt with its versions and labels')).action(
    async (opts: Conn) => {
      const { prompts: list } = await adminCall<{ prompts: PromptSummary[] }>(opts, 'GET', '/admin/prompts');
      print(opts, list, () => renderPromptList(list));
    },
  );

  common(
    prompts
      .command('show <ref>')
      .description('a version as YAML: NAME (production, else latest), NAME@VERSION, NAME:LABEL'),
  ).action(async (ref: string, opts: Conn) => {
    const answer = await adminCall<ShowAnswer>(opts, 'GET', path(ref));
    const p = answer.prompt;
    print(opts, answer, () =>
      [
        `# ${p.name}@${p.version} (version ${p.seq} of ${answer.versions.length})` +
          (p.resolvedBy ? `, via label ${p.resolvedBy}` : ''),
        `# labels: ${p.labels.join(', ') || '-'}; pushed ${when(p.createdAt)} by ${p.createdBy}; known good: ${when(p.goodAt)}`,
        p.yaml.trimEnd(),
        '',
        renderVersions(answer.versions),
      ].join('\n'),
    );
  });

  common(
    prompts
      .command('diff <a> <b>')
      .description('unified diff of two versions: NAME@V1 NAME@V2, NAME:production :staging, NAME@V1 V2'),
  ).action(async (a: string, b: string, opts: Conn) => {
    const args = diffArgs(a, b);
    const query = new URLSearchParams({ a: args.a, b: args.b });
    const answer = await adminCall<DiffAnswer>(opts, 'GET', `${path(args.name)}/diff?${query}`);
    print(opts, answer, () =>
      answer.identical
        ? `identical: ${args.name}@${answer.a.version} and ${args.name}@${answer.b.version}`
        : answer.diff.trimEnd(),
    );
  });

  common(
    prompts
      .command('promote <name> <version>')
      .description('point a label at a version (recorded in the label history)')
      .option('--label <label>', 'the label to move', 'production')
      .option('--reason <why>', 'for the label history'),
  ).action(async (name: string, version: string, opts: Conn & { label: string; reason?: string }) => {
    const answer = await adminCall<{
      status: string;
      label: string;
      version: string;
      previous?: string | null;
    }>(opts, 'POST', `${path(name)}/promote`, {
      version,
      label: opts.label,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
    print(opts, answer, () =>
      answer.status === 'unchanged'
        ? `${name}:${answer.label} already points to ${answer.version}`
        : `${name}:${answer.label} → ${answer.version}` +
          (answer.previous ? ` (was ${answer.previous})` : ''),
    );
  });

  common(
    prompts
      .command('rollback <name>')
      .description('move a label back one step in its history')
      .option('--label <label>', 'the label to move back', 'production')
      .option('--reason <why>', 'for the label history'),
  ).action(async (name: string, opts: Conn & { label: string; reason?: string }) => {
    const answer = await adminCall<{ label: string; version: string; previous: string | null }>(
      opts,
      'POST',
      `${path(name)}/rollback`,
      { label: opts.label, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) },
    );
    print(
      opts,
      answer,
      () => `rolled back ${name}:${answer.label} → ${answer.version} (was ${answer.previous ?? '-'})`,
    );
  });

  common(
    prompts
      .command('history <name>')
      .description('label moves, newest first')
      .option('--label <label>', 'only this label'),
  ).action(async (name: string, opts: Conn & { label?: string }) => {
    const query = opts.label !== undefined ? `?label=${encodeURIComponent(opts.label)}` : '';
    const { events } = await adminCall<{ events: LabelEvent[] }>(
      opts,
      'GET',
      `${path(name)}/history${query}`,
    );
    print(opts, events, () => renderHistory(events));
  });
}
