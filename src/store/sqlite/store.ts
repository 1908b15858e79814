import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { Trace } from '../../telemetry/trace.ts';
import { decodeCursor, encodeCursor, pageLimit, searchNeedle } from '../common.ts';
import type { Stats, TracePage, TraceQuery, TraceStore } from '../trace-store.ts';
import { migrate } from './migrations.ts';
import { openSqlite } from './open.ts';
import {
  SPAN_COLUMNS,
  SUMMARY_SELECT,
  type SummaryRow,
  spanValues,
  TRACE_COLUMNS,
  toSummary,
  traceValues,
  type Value,
} from './rows.ts';
import { StatsQueries } from './stats.ts';

/** Rows deleted per transaction while pruning, so a large prune never holds the loop for long. */
const PRUNE_CHUNK = 5_000;

export interface SqliteTraceStoreOptions {
  /** File path; its directory is created when missing. ':memory:' for a private in-memory database. */
  path: string;
}

export class SqliteTraceStore implements TraceStore {
  readonly kind = 'sqlite';
  readonly path: string;
  private readonly db: Database.Database;
  private readonly write: (traces: Trace[]) => void;
  private readonly getDoc: Database.Statement<[string], { doc: string }>;
  private readonly listCache = new Map<string, Database.Statement<Value[], SummaryRow>>();
  private readonly statsQueries: StatsQueries;
  private readonly deleteChunk: (ids: string[]) => void;

  constructor(options: SqliteTraceStoreOptions) {
    this.path = options.path;
    const { db } = openSqlite({ path: options.path }, options.path, migrate);
    this.db = db;
    const values = `(${TRACE_COLUMNS.join(', ')}) VALUES (${TRACE_COLUMNS.map(() => '?').join(', ')})`;
    const insertTrace = db.prepare<Value[]>(`INSERT INTO traces ${values}`);
    const replaceTrace = db.prepare<Value[]>(`INSERT OR REPLACE INTO traces ${values}`);
    const deleteSpans = db.prepare<[string]>('DELETE FROM spans WHERE trace_id = ?');
    const insertSpan = db.prepare<Value[]>(
      `INSERT INTO spans (${SPAN_COLUMNS.join(', ')}) VALUES (${SPAN_COLUMNS.map(() => '?').join(', ')})`,
    );
    this.write = db.transaction((traces: Trace[]) => {
      for (const t of traces) {
        const row = traceValues(t);
        try {
          insertTrace.run(...row);
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
          // A client may reuse an x-request-id: the later trace replaces the earlier, spans included.
          // Rare, so the common insert does not pay for a DELETE.
          replaceTrace.run(...row);
          deleteSpans.run(t.id);
        }
        for (const values of spanValues(t)) insertSpan.run(...values);
      }
    });
    const deleteTrace = db.prepare<[string]>('DELETE FROM traces WHERE id = ?');
    this.deleteChunk = db.transaction((ids: string[]) => {
      for (const id of ids) {
        deleteSpans.run(id);
        deleteTrace.run(id);
      }
    });
    this.getDoc = db.prepare<[string], { doc: string }>('SELECT doc FROM traces WHERE id = ?');
    this.statsQueries = new StatsQueries(db);
  }

  async writeBatch(traces: Trace[]): Promise<void> {
    if (traces.length === 0) return;
    this.write(traces);
  }

  async get(id: string): Promise<Trace | undefined> {
    const row = this.getDoc.get(id);
    return row ? (JSON.parse(row.doc) as Trace) : undefined;
  }

  async list(query: TraceQuery): Promise<TracePage> {
    const limit = pageLimit(query.limit);
    const where: string[] = [];
    const params: Value[] = [];
    const eq = (column: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    eq('route', query.route);
    eq('target', query.target);
    if (typeof query.status === 'number') eq('status', query.status);
    else eq('outcome', query.status);
    eq('decision', query.decision);
    eq('"user"', query.user);
    eq('session', query.session);
    eq('feature', query.feature);
    eq('"key"', query.key);
    if (query.since !== undefined) {
      where.push('started_at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('started_at < ?');
      params.push(query.until);
    }
    const needle = searchNeedle(query);
    if (needle !== undefined) {
      where.push('instr(body_text, ?) > 0');
      params.push(needle);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      where.push('(started_at, id) < (?, ?)');
      params.push(c.startedAt, c.id);
    }
    const sql =
      `SELECT ${SUMMARY_SELECT} FROM traces` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY started_at DESC, id DESC LIMIT ?';
    params.push(limit + 1);
    let stmt = this.listCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Value[], SummaryRow>(sql);
      this.listCache.set(sql, stmt);
    }
    const rows = stmt.all(...params);
    const more = rows.length > limit;
    if (more) rows.pop();
    const page: TracePage = { traces: rows.map(toSummary) };
    const last = rows[rows.length - 1];
    if (more && last) page.nextCursor = encodeCursor({ startedAt: last.started_at, id: last.id });
    return page;
  }

  async stats(since: number, until: number): Promise<Stats> {
    return this.statsQueries.run(since, until);
  }

  async prune(options: { maxAgeMs: number; maxRows: number; now?: number }): Promise<number> {
    const cutoff = (options.now ?? Date.now()) - options.maxAgeMs;
    const oldIds = this.db.prepare<[number, number], { id: string }>(
      'SELECT id FROM traces WHERE started_at < ? ORDER BY started_at, id LIMIT ?',
    );
    const oldestIds = this.db.prepare<[number], { id: string }>(
      'SELECT id FROM traces ORDER BY started_at, id LIMIT ?',
    );
    const count = this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM traces');
    let removed = 0;
    const drop = async (ids: string[]) => {
      this.deleteChunk(ids);
      removed += ids.length;
      await yieldToLoop();
    };
    for (;;) {
      const ids = oldIds.all(cutoff, PRUNE_CHUNK).map((r) => r.id);
      if (ids.length === 0) break;
      await drop(ids);
    }
    const maxRows = Math.max(0, Math.floor(options.maxRows));
    for (;;) {
      const excess = (count.get()?.n ?? 0) - maxRows;
      if (excess <= 0) break;
      await drop(oldestIds.all(Math.min(excess, PRUNE_CHUNK)).map((r) => r.id));
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
