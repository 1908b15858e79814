/**
 * Hot config reload. A `ConfigReloader` owns one keel.yaml path:
 *
 * - `start()` reads and validates the file, records it as the live version and returns the config
 *   (it does not call `onApply`: the caller builds its first router from the returned config).
 * - The file's directory is watched (fs.watch, debounced); when the file's text changes it is
 *   validated and, when valid, applied through `onApply`. The directory rather than the file is
 *   watched because editors and Kubernetes ConfigMaps replace the file instead of writing into it.
 * - `reload()` does the same on demand (call it on SIGHUP).
 * - `rollback(id?)` re-applies a stored version (default: the one before the live one).
 *
 * Every apply goes one way: parse + validate (`parseConfig`, the same checks as `keel check`) →
 * `onApply(config)` (the caller swaps its router) → record the version and mark it live → audit.
 * A config that fails validation, or whose `onApply` throws, is never applied: the old config keeps
 * serving, `onReject(problems)` hears why and the audit log gets `config.rejected`.
 *
 * Operations run one at a time, in call order, so two applies never interleave.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { KeelError } from '../core/errors.ts';
import type { PathProblem } from './interpolate.ts';
import { ConfigError, parseConfig } from './load.ts';
import type { KeelConfig } from './schema.ts';
import {
  type ConfigVersion,
  type ConfigVersionStore,
  type ConfigVersionSummary,
  ConfigVersions,
  configHash,
  summary,
} from './versions.ts';

/** What the reloader needs of the audit log (the edge AuditLog fits; the config layer cannot import it). */
export interface ReloadAudit {
  append(entry: {
    who: string;
    action: string;
    subject: string;
    reason?: string;
    details?: unknown;
  }): Promise<unknown>;
}

export type ReloadSource = 'startup' | 'file' | 'rollback';

export interface ApplyInfo {
  source: ReloadSource;
  /** SHA-256 of the YAML text being applied. */
  hash: string;
}

export interface ConfigReloaderOptions {
  path: string;
  /** Where versions are kept (the control store). */
  store: ConfigVersionStore;
  audit?: ReloadAudit | undefined;
  /** Swap the running config. Throwing (for example a router that cannot be built) rejects the config. */
  onApply(config: KeelConfig, info: ApplyInfo): void | Promise<void>;
  /** A config was refused; the old one keeps serving. `problems` are `path: problem` lines. */
  onReject?: ((problems: PathProblem[], info: { source: ReloadSource }) => void) | undefined;
  /** Failures that are not config problems (a store write) from a watch-triggered reload. */
  onError?: ((err: unknown) => void) | undefined;
  env?: Record<string, string | undefined> | undefined;
  /** Quiet time after the last file event before the file is read; default 250 ms. */
  debounceMs?: number | undefined;
  /** Watch the file; default true. `reload()` works either way. */
  watch?: boolean | undefined;
  clock?: Pick<Clock, 'now'> | undefined;
}

export type ReloadResult =
  | { status: 'applied'; version: ConfigVersionSummary; config: KeelConfig }
  | { status: 'unchanged'; version: ConfigVersionSummary | undefined }
  | { status: 'rejected'; problems: PathProblem[] };

interface Attempt {
  text: string;
  label: string;
  source: ReloadSource;
  who: string;
  reason?: string | undefined;
  /** Rollback: the stored version being re-applied. */
  version?: ConfigVersion | undefined;
}

export class ConfigReloader {
  readonly path: string;
  private readonly options: ConfigReloaderOptions;
  private readonly store: ConfigVersions;
  private running: KeelConfig | undefined;
  private liveVersion: ConfigVersion | undefined;
  /** Hash of the file's text when last read: a watch event with the same text does nothing. */
  private lastFileHash: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(options: ConfigReloaderOptions) {
    this.options = options;
    this.path = options.path;
    this.store = new ConfigVersions(options.store, options.clock);
  }

  /**
   * Reads, validates and records the file as the live version, starts watching, and returns the
   * config. Throws the ConfigError when the file is invalid (nothing is recorded then).
   */
  async start(): Promise<KeelConfig> {
    const config = await this.serial(async () => {
      const text = await this.readText();
      this.lastFileHash = configHash(text);
      const config = parseConfig(text, { source: this.path, env: this.options.env ?? process.env });
      await this.commit(config, { text, label: this.path, source: 'startup', who: 'system:startup' });
      return config;
    });
    if (this.options.watch !== false && !this.watcher) this.watchFile();
    return config;
  }

  /** Stops watching. Pending operations finish. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The config running now (undefined before `start`). */
  current(): KeelConfig | undefined {
    return this.running;
  }

  /**
   * Re-read the file and apply it (SIGHUP). Unlike a watch event, this re-applies the file even when
   * its text has not changed since it was last read, as long as it differs from the running config:
   * after a rollback, SIGHUP means "run what the file says".
   */
  reload(options: { who?: string; reason?: string } = {}): Promise<ReloadResult> {
    return this.serial(() => this.fromFile(options.who ?? 'system:reload', options.reason, false));
  }

  /**
   * Re-apply a stored version through the same validate + apply path; default: the version before
   * the live one. The file on disk is NOT rewritten: the user's keel.yaml stays theirs, so until it
   * is edited (or SIGHUP re-reads it) the file and the running config differ; `versions()` marks the
   * live one. A version that no longer validates (an environment variable it needs is gone) is
   * rejected like a bad file and the ConfigError is thrown.
   */
  rollback(versionId: number | undefined, options: { who: string; reason?: string }): Promise<ReloadResult> {
    return this.serial(async () => {
      const target =
        versionId === undefined
          ? await this.store.previous(this.liveVersion?.id)
          : await this.store.get(versionId);
      if (!target) {
        throw versionId === undefined
          ? new KeelError('KEEL_INVALID_REQUEST', 'no earlier config version to roll back to')
          : new KeelError('KEEL_NOT_FOUND', `no config version ${versionId}`, { param: 'version' });
      }
      if (this.liveVersion?.id === target.id) return { status: 'unchanged', version: summary(target) };
      const result = await this.attempt({
        text: target.yaml,
        label: `config version ${target.id}`,
        source: 'rollback',
        who: options.who,
        reason: options.reason,
        version: target,
      });
      if (result.status === 'rejected') throw new ConfigError(`config version ${target.id}`, result.problems);
      return result;
    });
  }

  /** Newest first; `live` marks the running one. */
  versions(): Promise<ConfigVersionSummary[]> {
    return this.store.list();
  }

  version(id: number): Promise<ConfigVersion | undefined> {
    return this.store.get(id);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readText(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
      throw new ConfigError(this.path, [{ path: '(file)', problem: reason }]);
    }
  }

  private async fromFile(who: string, reason: string | undefined, onlyIfFileChanged: boolean) {
    let text: string;
    try {
      text = await this.readText();
    } catch (err) {
      if (err instanceof ConfigError) return this.reject(err.problems, 'file', who);
      throw err;
    }
    const hash = configHash(text);
    const fileChanged = hash !== this.lastFileHash;
    this.lastFileHash = hash;
    if (onlyIfFileChanged && !fileChanged) return { status: 'unchanged', version: undefined } as const;
    return this.attempt({ text, label: this.path, source: 'file', who, reason });
  }

  private async attempt(attempt: Attempt): Promise<ReloadResult> {
    const hash = configHash(attempt.text);
    if (this.liveVersion?.hash === hash && attempt.source !== 'rollback') {
      return { status: 'unchanged', version: summary(this.liveVersion) };
    }
    let config: KeelConfig;
    try {
      config = parseConfig(attempt.text, { source: attempt.label, env: this.options.env ?? process.env });
      await this.options.onApply(config, { source: attempt.source, hash });
    } catch (err) {
      const problems =
        err instanceof ConfigError
          ? err.problems
          : [{ path: '(apply)', problem: err instanceof Error ? err.message : String(err) }];
      return this.reject(problems, attempt.source, attempt.who);
    }
    const version = await this.commit(config, attempt);
    return { status: 'applied', version: summary(version), config };
  }

  /** The config is running: record the version, mark it live, audit. */
  private async commit(config: KeelConfig, attempt: Attempt): Promise<ConfigVersion> {
    this.running = config;
    const previous = this.liveVersion;
    let version: ConfigVersion;
    let created = false;
    if (attempt.version) version = attempt.version;
    else ({ version, created } = await this.store.record(attempt.text, attempt.who));
    await this.store.markLive(version.id);
    version = { ...version, live: true };
    this.liveVersion = version;
    await this.options.audit?.append({
      who: attempt.who,
      action: attempt.source === 'rollback' ? 'config.rollback' : 'config.apply',
      subject: this.path,
      ...(attempt.reason !== undefined ? { reason: attempt.reason } : {}),
      details: {
        version: version.id,
        hash: version.hash,
        source: attempt.source,
        newVersion: created,
        previous: previous?.id ?? null,
      },
    });
    return version;
  }

  private async reject(problems: PathProblem[], source: ReloadSource, who: string): Promise<ReloadResult> {
    this.options.onReject?.(problems, { source });
    await this.options.audit?.append({
      who,
      action: 'config.rejected',
      subject: this.path,
      details: { source, problems },
    });
    return { status: 'rejected', problems };
  }

  private watchFile(): void {
    const base = basename(this.path);
    try {
      this.watcher = watch(dirname(resolve(this.path)), { persistent: false }, (_event, filename) => {
        // Kubernetes swaps a `..data` symlink; a null filename means the platform did not say.
        if (filename === null || filename === base || filename.startsWith('..')) this.schedule();
      });
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    this.watcher.on('error', (err) => this.options.onError?.(err));
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.serial(() => this.fromFile('system:file-watch', undefined, true)).catch((err: unknown) =>
        this.options.onError?.(err),
      );
    }, this.options.debounceMs ?? 250);
    this.timer.unref();
  }
}
