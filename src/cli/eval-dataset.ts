/**
 * `keel eval dataset add|list|show`: the dataset registry on disk, fed from a JSONL file, from stored
 * traces (`GET /admin/traces/:id`) or from the review queue's golden export (`GET /admin/review/export`).
 * A file is the whole content of a new version; cases from traces or reviews are added to the latest
 * version (a case with the same id is replaced), which makes a new version.
 */
import {
  type AddResult,
  caseFromReview,
  caseFromTrace,
  type Dataset,
  DatasetRegistry,
  type DatasetSummary,
  type EvalCase,
  KeelEvalError,
  messageText,
  validateCases,
} from '../evals/index.ts';
import { adminCall, type ControlConn } from './control.ts';
import { EvalUsageError } from './eval-errors.ts';
import { table } from './traces.ts';

export interface AddOptions {
  root: string;
  url: string;
  fromTrace?: string;
  fromReview?: boolean;
  ids?: string;
}

/** `keel eval dataset add NAME [FILE]`: from exactly one of FILE, `--from-trace` or `--from-review`. */
export async function addToDataset(
  name: string,
  file: string | undefined,
  options: AddOptions,
): Promise<AddResult> {
  const sources = [file !== undefined, options.fromTrace !== undefined, options.fromReview === true];
  if (sources.filter(Boolean).length !== 1)
    throw new EvalUsageError(
      'give exactly one source: FILE, --from-trace ID[,ID…] or --from-review [--ids a,b]',
    );
  if (options.ids !== undefined && !options.fromReview)
    throw new EvalUsageError('--ids goes with --from-review');
  const registry = new DatasetRegistry({ root: options.root });
  if (file !== undefined) return registry.add(name, file);
  const conn: ControlConn = { url: options.url };
  if (options.fromReview) return appendCases(registry, name, await casesFromReview(conn, options.ids));
  const cases: EvalCase[] = [];
  for (const id of options
    .fromTrace!.split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    cases.push(await caseFromStoredTrace(conn, id));
  return appendCases(registry, name, cases);
}

/** Stores `cases` on top of the dataset's latest version (same id: replaced), as a new version. */
export function appendCases(registry: DatasetRegistry, name: string, cases: readonly EvalCase[]): AddResult {
  const latest = registry.list().some((d) => d.name === name) ? registry.show(name).cases : [];
  const incoming = new Map(cases.map((c) => [c.id, c]));
  const kept = latest.filter((c) => !incoming.has(c.id));
  return registry.add(name, [...kept, ...incoming.values()]);
}

interface StoredTrace {
  id: string;
  route?: string;
  feature?: string;
  request?: unknown;
  response?: unknown;
}

/**
 * A case from a trace of the running gateway. Chat traces go through `caseFromTrace`; a feature call's
 * trace keeps its prompt variables as `input.variables` (its request is `{ variables, messages }`).
 * A streamed or feature answer is stored as a message (`{ role, content }`), which is read too.
 */
export async function caseFromStoredTrace(conn: ControlConn, id: string): Promise<EvalCase> {
  const trace = await adminCall<StoredTrace>(conn, 'GET', `/admin/traces/${encodeURIComponent(id)}`);
  const content = (trace.response as { content?: unknown } | undefined)?.content;
  const response = typeof content === 'string' && content !== '' ? { text: content } : trace.response;
  const request = (trace.request ?? {}) as { variables?: unknown; messages?: unknown };
  const variables = request.variables;
  const hasVariables =
    typeof variables === 'object' && variables !== null && Object.keys(variables as object).length > 0;
  if (trace.feature === undefined || !hasVariables)
    return caseFromTrace({ ...trace, id: trace.id, response }, {});
  // A feature call: the case is what the caller sent (variables and any messages) and what it got back.
  const answer = caseFromTrace(
    {
      id: trace.id,
      request: { messages: [] },
      response,
      ...(trace.route ? { route: trace.route } : {}),
      feature: trace.feature,
    },
    {},
  );
  const messages =
    Array.isArray(request.messages) && request.messages.length > 0 ? request.messages : undefined;
  const [evalCase] = validateCases(
    [{ ...answer, input: { variables, ...(messages ? { messages } : {}) } }],
    `trace ${trace.id}`,
  );
  return evalCase!;
}

/** Cases from resolved review items (all of them, or `ids`). */
export async function casesFromReview(conn: ControlConn, ids?: string): Promise<EvalCase[]> {
  const query = new URLSearchParams({ format: 'json', ...(ids !== undefined ? { ids } : {}) });
  const { cases } = await adminCall<{ cases: unknown[] }>(conn, 'GET', `/admin/review/export?${query}`);
  if (cases.length === 0)
    throw new KeelEvalError(
      'KEEL_EVAL_DATASET_INVALID',
      'the review queue has no resolved items to export (resolve some: keel review resolve ID --answer TEXT)',
    );
  return cases.map((line) => caseFromReview(line));
}

export function describeAdd(result: AddResult): string {
  const ref = `${result.name}@${result.version}`;
  return result.created
    ? `added ${ref} (${result.cases} cases); it is now ${result.name}@latest`
    : `unchanged: ${ref} (${result.cases} cases) already holds exactly these cases; it is ${result.name}@latest`;
}

export function renderDatasetList(datasets: DatasetSummary[], root: string): string {
  if (datasets.length === 0) return `no datasets in ${root} (add one: keel eval dataset add NAME FILE)`;
  return table(
    ['name', 'versions', 'latest', 'cases', 'labels', 'added'],
    datasets.map((d) => {
      const latest = d.versions.find((v) => v.version === d.labels.latest) ?? d.versions.at(-1);
      const labels = Object.entries(d.labels)
        .filter(([label]) => label !== 'latest')
        .map(([label, version]) => `${label}=${version}`);
      return [
        d.name,
        String(d.versions.length),
        latest?.version ?? '-',
        String(latest?.cases ?? '-'),
        labels.join(', ') || '-',
        latest?.addedAt.replace('T', ' ').slice(0, 19) ?? '-',
      ];
    }),
  );
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function inputText(evalCase: EvalCase): string {
  const user = evalCase.input.messages?.filter((m) => m.role === 'user').at(-1);
  if (user) return messageText(user);
  return JSON.stringify(evalCase.input.variables ?? {});
}

export function renderDataset(dataset: Dataset): string {
  const rows = dataset.cases.map((c) => [
    c.id,
    clip(inputText(c), 50),
    c.expected === undefined
      ? '-'
      : clip(typeof c.expected === 'string' ? c.expected : JSON.stringify(c.expected), 40),
    (c.tags ?? []).join(',') || '-',
  ]);
  return `${dataset.name}@${dataset.version}: ${dataset.cases.length} cases\n\n${table(['id', 'input', 'expected', 'tags'], rows)}`;
}
