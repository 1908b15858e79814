/**
 * A file-backed registry of named, versioned datasets:
 *
 *   ROOT/NAME/VERSION.jsonl   the cases, canonical JSONL, never rewritten
 *   ROOT/NAME/index.json      { versions: [{ version, cases, addedAt }], labels: { latest: VERSION, … } }
 *
 * Versions are content hashes, so adding the same cases twice returns the version already stored.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EvalCase } from './case.ts';
import { datasetVersion, parseDataset, readDatasetFile, serializeDataset, validateCases } from './dataset.ts';
import { KeelEvalError } from './errors.ts';

export const DEFAULT_DATASET_ROOT = '.keel/evals/datasets';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VERSION = /^[0-9a-f]{12}$/;

const indexSchema = z.object({
  versions: z.array(z.object({ version: z.string(), cases: z.number(), addedAt: z.string() })),
  labels: z.record(z.string(), z.string()),
});
type DatasetIndex = z.infer<typeof indexSchema>;

export interface DatasetVersionInfo {
  version: string;
  cases: number;
  addedAt: string;
}

export interface DatasetSummary {
  name: string;
  versions: DatasetVersionInfo[];
  labels: Record<string, string>;
}

export interface Dataset {
  name: string;
  version: string;
  cases: EvalCase[];
}

export interface AddResult {
  name: string;
  version: string;
  cases: number;
  /** False when a version with exactly this content was already stored. */
  created: boolean;
}

export class DatasetRegistry {
  readonly root: string;

  constructor(options: { root?: string } = {}) {
    this.root = options.root ?? DEFAULT_DATASET_ROOT;
  }

  /**
   * Stores cases (objects, or the path of a JSONL file) as a version of `name` and points `latest` at it.
   * @example registry.add('support-faq', 'faq.jsonl') // { version: '3f2a…', created: true, … }
   */
  add(name: string, source: readonly unknown[] | string): AddResult {
    checkName(name);
    const cases = typeof source === 'string' ? readDatasetFile(source) : validateCases(source);
    const version = datasetVersion(cases);
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    const index = this.readIndex(name);
    const file = join(dir, `${version}.jsonl`);
    const created = !existsSync(file);
    // `wx` refuses to overwrite: a version's file, once written, is never changed.
    if (created) writeFileSync(file, serializeDataset(cases), { flag: 'wx' });
    if (!index.versions.some((v) => v.version === version))
      index.versions.push({ version, cases: cases.length, addedAt: new Date().toISOString() });
    index.labels.latest = version;
    this.writeIndex(name, index);
    return { name, version, cases: cases.length, created };
  }

  /** Points `label` (e.g. `baseline`) of dataset `name` at `ref` (a version or another label). */
  label(name: string, label: string, ref: string): void {
    checkName(name);
    if (!NAME.test(label)) throw invalid(`label "${label}" must be letters, digits, '.', '_' or '-'`);
    if (VERSION.test(label)) throw invalid(`label "${label}" looks like a version; pick another name`);
    const { version } = this.show(`${name}@${ref}`);
    const index = this.readIndex(name);
    index.labels[label] = version;
    this.writeIndex(name, index);
  }

  list(): DatasetSummary[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(this.root, entry.name, 'index.json')))
      .map((entry) => ({ name: entry.name, ...this.readIndex(entry.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Loads `NAME`, `NAME@VERSION` or `NAME@LABEL` (plain `NAME` means `NAME@latest`).
   * @throws KeelEvalError KEEL_EVAL_DATASET_NOT_FOUND naming what is missing.
   */
  show(ref: string): Dataset {
    const at = ref.indexOf('@');
    const name = at === -1 ? ref : ref.slice(0, at);
    const wanted = at === -1 ? 'latest' : ref.slice(at + 1);
    checkName(name);
    if (!existsSync(join(this.root, name, 'index.json')))
      throw notFound(`dataset "${name}" is not in ${this.root}`);
    const index = this.readIndex(name);
    const version = VERSION.test(wanted) ? wanted : index.labels[wanted];
    if (!version || !index.versions.some((v) => v.version === version)) {
      const known = [...Object.keys(index.labels), ...index.versions.map((v) => v.version)].join(', ');
      throw notFound(`dataset "${name}" has no version or label "${wanted}" (known: ${known})`);
    }
    const file = join(this.root, name, `${version}.jsonl`);
    const cases = parseDataset(readFileSync(file, 'utf8'), file);
    if (datasetVersion(cases) !== version)
      throw invalid(`${file}: content no longer matches its version ${version} (the file was edited)`);
    return { name, version, cases };
  }

  private readIndex(name: string): DatasetIndex {
    const file = join(this.root, name, 'index.json');
    if (!existsSync(file)) return { versions: [], labels: {} };
    const parsed = indexSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw invalid(`${file}: not a dataset index (${parsed.error.issues[0]?.message})`);
    return parsed.data;
  }

  private writeIndex(name: string, index: DatasetIndex): void {
    const file = join(this.root, name, 'index.json');
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(index, null, 2)}\n`);
    renameSync(temp, file);
  }
}

function checkName(name: string): void {
  if (!NAME.test(name))
    throw invalid(
      `dataset name "${name}" must be 1-64 letters, digits, '.', '_' or '-', not starting with a symbol`,
    );
}

function invalid(message: string): KeelEvalError {
  return new KeelEvalError('KEEL_EVAL_DATASET_INVALID', message);
}

function notFound(message: string): KeelEvalError {
  return new KeelEvalError('KEEL_EVAL_DATASET_NOT_FOUND', message);
}
