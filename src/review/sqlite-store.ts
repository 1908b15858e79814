import type Database from 'better-sqlite3';
import { type OpenOptions, openSqlite } from '../store/sqlite/open.ts';
import { ReviewNotFoundError } from './errors.ts';
import { exportGolden } from './golden.ts';
import { newReviewId } from './ids.ts';
import { migrateReview } from './migrations.ts';
import { closeItem } from './resolution.ts';
import type {
  GoldenCase,
  NewReviewItem,
  Resolution,
  ReviewAnswer,
  ReviewInput,
  ReviewItem,
  ReviewQuery,
  ReviewReason,
  ReviewStatus,
  ReviewStore,
} from './store.ts';

export const DEFAULT_REVIEW_DB_PATH = '.keel/review.db';

interface ItemRow {
  id: string;
  created_at: number;
  status: string;
  reason: string;
  feature: string | null;
  route: string | null;
  trace_id: string | null;
  prompt_version: string | null;
  input: string;
  output: string | null;
  contexts: string | null;
  validation: string | null;
  tags: string | null;
  answer: string | null;
  resolved_by: string | null;
  resolved_at: number | null;
  note: string | null;
}

type Param = string | number | null;

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parsed = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

function toItem(row: ItemRow): ReviewItem {
  const item: ReviewItem = {
    id: row.id,
    createdAt: row.created_at,
    status: row.status as ReviewStatus,
    reason: row.reason as ReviewReason,
    input: JSON.parse(row.input) as ReviewInput,
  };
  if (row.feature !== null) item.feature = row.feature;
  if (row.route !== null) item.route = row.route;
  if (row.trace_id !== null) item.traceId = row.trace_id;
  if (row.prompt_version !== null) item.promptVersion = row.prompt_version;
  if (row.output !== null) item.output = parsed(row.output);
  if (row.contexts !== null) item.contexts = parsed(row.contexts) as string[];
  if (row.validation !== null) item.validation = parsed(row.validation);
  if (row.tags !== null) item.tags = parsed(row.tags) as string[];
  if (row.answer !== null) item.answer = parsed(row.answer) as ReviewAnswer;
  if (row.resolved_by !== null) item.resolvedBy = row.resolved_by;
  if (row.resolved_at !== null) item.resolvedAt = row.resolved_at;
  if (row.note !== null) item.note = row.note;
  return item;
}

/** A file path (its directory is created; ':memory:' for a private database) or an open database. */
export type SqliteReviewStoreOptions = OpenOptions;

export class SqliteReviewStore implements ReviewStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly owned: boolean;
  private readonly stmt;
  private readonly resolveTx: Database.Transaction<
    (id: string, resolution: Resolution, meta: { who: string; at: number }) => ReviewItem
  >;

  constructor(options: SqliteReviewStoreOptions = {}) {
    const { db, owned } = openSqlite(options, DEFAULT_REVIEW_DB_PATH, migrateReview);
    this.db = db;
    this.owned = owned;
    this.stmt = {
      insert: db.prepare<Param[]>(
        `INSERT INTO review_items (id, created_at, status, reason, feature, route, trace_id, prompt_version,
           input, output, contexts, validation, tags) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare<[string], ItemRow>('SELECT * FROM review_items WHERE id = ?'),
      list: db.prepare<[number], ItemRow>(
        'SELECT * FROM review_items ORDER BY created_at DESC, rowid DESC LIMIT ?',
      ),
      listStatus: db.prepare<[string, number], ItemRow>(
        'SELECT * FROM review_items WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
      ),
      counts: db.prepare<[], { status: string; n: number }>(
        'SELECT status, COUNT(*) AS n FROM review_items GROUP BY status',
      ),
      close: db.prepare<Param[]>(
        `UPDATE review_items SET status = ?, answer = ?, resolved_by = ?, resolved_at = ?, note = ?
         WHERE id = ? AND status = 'open'`,
      ),
    };
    const stmt = this.stmt;
    this.resolveTx = db.transaction(
      (id: string, resolution: Resolution, meta: { who: string; at: number }) => {
        const row = stmt.get.get(id);
        if (!row) throw new ReviewNotFoundError(id);
        const closed = closeItem(toItem(row), resolution, meta);
        stmt.close.run(closed.status, json(closed.answer), meta.who, meta.at, closed.note ?? null, id);
        return closed;
      },
    );
  }

  async enqueue(item: NewReviewItem, at: number): Promise<ReviewItem> {
    const id = newReviewId();
    this.stmt.insert.run(
      id,
      at,
      item.reason,
      item.feature ?? null,
      item.route ?? null,
      item.traceId ?? null,
      item.promptVersion ?? null,
      JSON.stringify(item.input),
      json(item.output),
      json(item.contexts),
      json(item.validation),
      json(item.tags),
    );
    return toItem(this.stmt.get.get(id)!);
  }

  async list(query: ReviewQuery = {}): Promise<ReviewItem[]> {
    // SQLite reads LIMIT -1 as "no limit".
    const limit = query.limit ?? -1;
    const rows =
      query.status === undefined ? this.stmt.list.all(limit) : this.stmt.listStatus.all(query.status, limit);
    return rows.map(toItem);
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const row = this.stmt.get.get(id);
    return row && toItem(row);
  }

  async counts(): Promise<Record<ReviewStatus, number>> {
    const counts = { open: 0, resolved: 0, rejected: 0 };
    for (const row of this.stmt.counts.all()) counts[row.status as ReviewStatus] = row.n;
    return counts;
  }

  async resolve(id: string, resolution: Resolution, meta: { who: string; at: number }): Promise<ReviewItem> {
    return this.resolveTx.immediate(id, resolution, meta);
  }

  exportGolden(ids?: readonly string[]): Promise<GoldenCase[]> {
    return exportGolden(this, ids);
  }

  async close(): Promise<void> {
    if (this.owned && this.db.open) this.db.close();
  }
}
