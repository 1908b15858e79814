/**
 * Config versions: every keel.yaml text that was applied, keyed by the SHA-256 of its text, so an
 * operator can see what ran when and roll back. The YAML is kept as written (before `${ENV}`
 * interpolation), so secrets passed through the environment never reach the store; a secret written
 * inline in keel.yaml would, like it is in the file.
 *
 * The store is an interface (the control store implements it) because the config layer may import
 * only core and config.
 */
import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';

export interface ConfigVersion {
  /** Increasing: a later version has a larger id. */
  id: number;
  /** When it was first recorded (ms since the epoch). */
  at: number;
  /** SHA-256 of the YAML text, hex. */
  hash: string;
  yaml: string;
  /** Who recorded it: an admin identity or `system:<what>` (startup, file-watch, sighup). */
  who: string;
  /** This version is the running config. At most one version is live. */
  live: boolean;
}

export type ConfigVersionSummary = Omit<ConfigVersion, 'yaml'>;

export interface NewConfigVersion {
  at: number;
  hash: string;
  yaml: string;
  who: string;
}

/** Where versions are kept. Implemented by the control stores (SQLite, memory). */
export interface ConfigVersionStore {
  /** Appends a version (not live). */
  addConfigVersion(version: NewConfigVersion): Promise<ConfigVersion>;
  /** Oldest first. */
  listConfigVersions(): Promise<ConfigVersion[]>;
  getConfigVersion(id: number): Promise<ConfigVersion | undefined>;
  /** The version with the largest id. */
  latestConfigVersion(): Promise<ConfigVersion | undefined>;
  /** Makes `id` the only live version. */
  setLiveConfigVersion(id: number): Promise<void>;
}

export function configHash(yaml: string): string {
  return createHash('sha256').update(yaml).digest('hex');
}

export const summary = ({ yaml: _yaml, ...rest }: ConfigVersion): ConfigVersionSummary => rest;

export class ConfigVersions {
  constructor(
    private readonly store: ConfigVersionStore,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /**
   * Records `yaml` as a version. When its hash equals the latest version's (the same text recorded
   * twice in a row) no new version is made and the latest is returned with `created: false`.
   * An older version with the same text does not count: A, B, A is three versions.
   */
  async record(yaml: string, who: string): Promise<{ version: ConfigVersion; created: boolean }> {
    const hash = configHash(yaml);
    const latest = await this.store.latestConfigVersion();
    if (latest && latest.hash === hash) return { version: latest, created: false };
    const version = await this.store.addConfigVersion({ at: this.clock.now(), hash, yaml, who });
    return { version, created: true };
  }

  async markLive(id: number): Promise<void> {
    await this.store.setLiveConfigVersion(id);
  }

  /** Newest first, without the YAML. */
  async list(): Promise<ConfigVersionSummary[]> {
    return (await this.store.listConfigVersions()).reverse().map(summary);
  }

  get(id: number): Promise<ConfigVersion | undefined> {
    return this.store.getConfigVersion(id);
  }

  async live(): Promise<ConfigVersion | undefined> {
    return (await this.store.listConfigVersions()).find((v) => v.live);
  }

  /**
   * The version just before `before` (by id); without `before`, just before the live one (or the
   * latest when none is live).
   */
  async previous(before?: number): Promise<ConfigVersion | undefined> {
    const all = await this.store.listConfigVersions();
    const anchor = before ?? (all.find((v) => v.live) ?? all[all.length - 1])?.id;
    if (anchor === undefined) return undefined;
    return all.filter((v) => v.id < anchor).pop();
  }
}
