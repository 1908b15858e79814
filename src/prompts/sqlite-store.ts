import type Database from 'better-sqlite3';
import { type OpenOptions, openSqlite } from '../store/sqlite/open.ts';
import { PromptNotFoundError } from './errors.ts';
import { rollbackTarget } from './label-steps.ts';
import { migratePrompts } from './migrations.ts';
import type { PromptBody, PromptDefinition } from './schema.ts';
import type {
  ChangeMeta,
  LabelAction,
  LabelEvent,
  PromptStore,
  PromptSummary,
  PromptVersion,
  PushResult,
} from './store.ts';
import { promptBody, versionId } from './version-id.ts';

export const DEFAULT_PROMPT_DB_PATH = '.keel/prompts.db';

interface VersionRow {
  name: string;
  version: string;
  seq: number;
  body: string;
  created_at: number;
  created_by: string;
  good_at: number | null;
}

interface EventRow {
  id: number;
  name: string;
  label: string;
  action: string;
  version: string;
  previous: string | null;
  who: string;
  reason: string | null;
  at: number;
}

interface SummaryRow {
  name: string;
  versions: number;
  latest_body: string;
  latest: string;
  updated_at: number;
}

type Param = string | number | null;

const VERSION_COLUMNS = 'name, version, seq, body, created_at, created_by, good_at';

const toVersion = (row: VersionRow): PromptVersion => ({
  name: row.name,
  version: row.version,
  seq: row.seq,
  body: JSON.parse(row.body) as PromptBody,
  createdAt: row.created_at,
  createdBy: row.created_by,
  goodAt: row.good_at,
});

const toEvent = (row: EventRow): LabelEvent => ({ ...row, action: row.action as LabelAction });

/** A file path (its directory is created; ':memory:' for a private database) or an open database. */
export type SqlitePromptStoreOptions = OpenOptions;

export class SqlitePromptStore implements PromptStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly owned: boolean;
  private readonly stmt;
  private readonly pushTx: Database.Transaction<
    (definition: PromptDefinition, meta: Omit<ChangeMeta, 'reason'>) => PushResult
  >;
  private readonly moveTx: Database.Transaction<
    (
      change: Pick<LabelEvent, 'name' | 'label' | 'action' | 'version'>,
      meta: ChangeMeta,
    ) => LabelEvent | undefined
  >;

  constructor(options: SqlitePromptStoreOptions = {}) {
    const { db, owned } = openSqlite(options, DEFAULT_PROMPT_DB_PATH, migratePrompts);
    this.db = db;
    this.owned = owned;
    this.stmt = {
      version: db.prepare<[string, string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM prompt_versions WHERE name = ? AND version = ?`,
      ),
      versions: db.prepare<[string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM prompt_versions WHERE name = ? ORDER BY seq`,
      ),
      latest: db.prepare<[string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM prompt_versions WHERE name = ? ORDER BY seq DESC LIMIT 1`,
      ),
      nextSeq: db.prepare<[string], { seq: number }>(
        'SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM prompt_versions WHERE name = ?',
      ),
      insertVersion: db.prepare<Param[]>(
        `INSERT INTO prompt_versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
      ),
      summaries: db.prepare<[], SummaryRow>(
        `SELECT v.name, COUNT(*) AS versions,
                (SELECT body FROM prompt_versions l WHERE l.name = v.name ORDER BY seq DESC LIMIT 1) AS latest_body,
                (SELECT version FROM prompt_versions l WHERE l.name = v.name ORDER BY seq DESC LIMIT 1) AS latest,
                MAX(MAX(v.created_at), COALESCE((SELECT MAX(updated_at) FROM prompt_labels p WHERE p.name = v.name), 0))
                  AS updated_at
         FROM prompt_versions v GROUP BY v.name ORDER BY v.name`,
      ),
      allLabels: db.prepare<[], { name: string; label: string; version: string }>(
        'SELECT name, label, version FROM prompt_labels ORDER BY name, label',
      ),
      labels: db.prepare<[string], { label: string; version: string }>(
        'SELECT label, version FROM prompt_labels WHERE name = ? ORDER BY label',
      ),
      label: db.prepare<[string, string], { version: string }>(
        'SELECT version FROM prompt_labels WHERE name = ? AND label = ?',
      ),
      putLabel: db.prepare<Param[]>(
        `INSERT INTO prompt_labels (name, label, version, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name, label) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      ),
      appendEvent: db.prepare<Param[], EventRow>(
        `INSERT INTO prompt_label_events (name, label, action, version, previous, who, reason, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      ),
      labelEvents: db.prepare<[string, string], EventRow>(
        'SELECT * FROM prompt_label_events WHERE name = ? AND label = ? ORDER BY id',
      ),
      history: db.prepare<[string], EventRow>(
        'SELECT * FROM prompt_label_events WHERE name = ? ORDER BY id DESC',
      ),
      historyOf: db.prepare<[string, string], EventRow>(
        'SELECT * FROM prompt_label_events WHERE name = ? AND label = ? ORDER BY id DESC',
      ),
      markGood: db.prepare<[number, string, string]>(
        'UPDATE prompt_versions SET good_at = ? WHERE name = ? AND version = ?',
      ),
      lastGood: db.prepare<[string, string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM prompt_versions
         WHERE name = ? AND good_at IS NOT NULL AND version <> ? ORDER BY good_at DESC, seq DESC LIMIT 1`,
      ),
    };
    const stmt = this.stmt;

    this.pushTx = db.transaction((definition: PromptDefinition, meta: Omit<ChangeMeta, 'reason'>) => {
      const body = promptBody(definition);
      const version = versionId(body);
      const existing = stmt.version.get(definition.name, version);
      if (existing) return { version: toVersion(existing), created: false };
      const seq = stmt.nextSeq.get(definition.name)!.seq;
      stmt.insertVersion.run(definition.name, version, seq, JSON.stringify(body), meta.at, meta.who);
      return { version: toVersion(stmt.version.get(definition.name, version)!), created: true };
    });

    this.moveTx = db.transaction(
      (change: Pick<LabelEvent, 'name' | 'label' | 'action' | 'version'>, meta: ChangeMeta) => {
        const { name, label } = change;
        let version = change.version;
        let previous = stmt.label.get(name, label)?.version ?? null;
        if (change.action === 'rollback') {
          const target = rollbackTarget(name, label, stmt.labelEvents.all(name, label).map(toEvent));
          version = target.to;
          previous = target.from;
        } else {
          if (!stmt.version.get(name, version)) {
            throw new PromptNotFoundError(`prompt "${name}" has no version ${version}`, 'version');
          }
          if (previous === version) return undefined;
        }
        stmt.putLabel.run(name, label, version, meta.at);
        const row = stmt.appendEvent.get(
          name,
          label,
          change.action,
          version,
          previous,
          meta.who,
          meta.reason ?? null,
          meta.at,
        );
        return toEvent(row!);
      },
    );
  }

  async push(definition: PromptDefinition, meta: Omit<ChangeMeta, 'reason'>): Promise<PushResult> {
    return this.pushTx.immediate(definition, meta);
  }

  async list(): Promise<PromptSummary[]> {
    const labels = new Map<string, Record<string, string>>();
    for (const row of this.stmt.allLabels.all()) {
      const of = labels.get(row.name) ?? {};
      of[row.label] = row.version;
      labels.set(row.name, of);
    }
    return this.stmt.summaries.all().map((row) => ({
      name: row.name,
      description: (JSON.parse(row.latest_body) as PromptBody).description ?? null,
      versions: row.versions,
      latest: row.latest,
      labels: labels.get(row.name) ?? {},
      updatedAt: row.updated_at,
    }));
  }

  async versions(name: string): Promise<PromptVersion[]> {
    return this.stmt.versions.all(name).map(toVersion);
  }

  async getVersion(name: string, version: string): Promise<PromptVersion | undefined> {
    const row = this.stmt.version.get(name, version);
    return row && toVersion(row);
  }

  async latest(name: string): Promise<PromptVersion | undefined> {
    const row = this.stmt.latest.get(name);
    return row && toVersion(row);
  }

  async labels(name: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.stmt.labels.all(name).map((r) => [r.label, r.version]));
  }

  async setLabel(
    name: string,
    label: string,
    version: string,
    meta: ChangeMeta,
  ): Promise<LabelEvent | undefined> {
    return this.moveTx.immediate({ name, label, action: 'promote', version }, meta);
  }

  async rollbackLabel(name: string, label: string, meta: ChangeMeta): Promise<LabelEvent> {
    if (!this.stmt.latest.get(name)) throw new PromptNotFoundError(`no prompt "${name}"`, 'name');
    return this.moveTx.immediate({ name, label, action: 'rollback', version: '' }, meta)!;
  }

  async labelHistory(name: string, label?: string): Promise<LabelEvent[]> {
    const rows = label === undefined ? this.stmt.history.all(name) : this.stmt.historyOf.all(name, label);
    return rows.map(toEvent);
  }

  async markGood(name: string, version: string, at: number): Promise<void> {
    this.stmt.markGood.run(at, name, version);
  }

  async lastKnownGood(name: string, excludeVersion?: string): Promise<PromptVersion | undefined> {
    const row = this.stmt.lastGood.get(name, excludeVersion ?? '');
    return row && toVersion(row);
  }

  async close(): Promise<void> {
    if (this.owned && this.db.open) this.db.close();
  }
}
