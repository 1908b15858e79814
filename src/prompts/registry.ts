/**
 * The prompt registry: the store plus what the request path needs from it.
 *
 * - `resolve(ref)` is cheap per request: resolutions are cached in memory (one map lookup on a hit).
 *   A change made through this registry drops that prompt's entries at once; a change made by another
 *   replica sharing the store shows after at most `cacheMs` (default 5 s). `NAME@VERSION` entries never
 *   expire: versions are immutable.
 * - `render(ref, variables)` falls back to the last known-good version when the resolved one cannot be
 *   rendered with the caller's variables (and the known-good one can), or when its output has failed
 *   validation `failureThreshold` times in a row (reported through `reportFailure`; the version is then
 *   skipped for `quarantineMs`). The answer carries `fallback` saying from what, to what, and why, for
 *   the trace. A pinned `NAME@VERSION` never falls back.
 * - `reportSuccess` marks a version known-good (one store write each time the working version changes).
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { diffPrompts } from './diff.ts';
import { PromptNotFoundError, PromptVariableError } from './errors.ts';
import {
  checkLabel,
  checkName,
  checkVersion,
  formatRef,
  type PromptRef,
  parseRef,
  selectorRef,
} from './ref.ts';
import { type RenderedMessage, type RenderOptions, renderPrompt } from './render.ts';
import { type ResolvedPrompt, resolveRef } from './resolve.ts';
import { type PromptDefinition, type PromptParams, parsePromptFile, parsePromptObject } from './schema.ts';
import type { LabelEvent, PromptStore, PromptSummary, PromptVersion, PushResult } from './store.ts';

export interface PromptRegistryOptions {
  clock?: Pick<Clock, 'now'> | undefined;
  /** How long a resolved `NAME` or `NAME:LABEL` is reused; default 5000 ms, 0 = always ask the store. */
  cacheMs?: number | undefined;
  /** Consecutive validation failures after which a version is skipped; default 3. */
  failureThreshold?: number | undefined;
  /** How long a version that kept failing is skipped before it is tried again; default 5 minutes. */
  quarantineMs?: number | undefined;
}

export interface PromptFallback {
  /** The version the reference resolved to, which was not used. */
  from: string;
  /** The known-good version used instead. */
  to: string;
  reason: string;
}

export interface PreparedPrompt {
  name: string;
  /** The version whose messages these are. */
  version: string;
  label: string | null;
  messages: RenderedMessage[];
  params: PromptParams | undefined;
  /** Present when the resolved version was not the one used. */
  fallback?: PromptFallback;
}

export interface ActorMeta {
  who: string;
  reason?: string | undefined;
}

interface CacheEntry<T> {
  name: string;
  at: number;
  promise: Promise<T>;
}

interface Failures {
  count: number;
  /** When the quarantine ends; 0 while under the threshold. */
  until: number;
}

const key = (name: string, version: string) => `${name}@${version}`;

/** The caller's variables were written for the resolved version, which may declare more. */
const FALLBACK_RENDER = { ignoreUnknown: true };

export class PromptRegistry {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly cacheMs: number;
  private readonly threshold: number;
  private readonly quarantineMs: number;
  private readonly resolved = new Map<string, CacheEntry<ResolvedPrompt>>();
  private readonly knownGoodCache = new Map<string, CacheEntry<PromptVersion | undefined>>();
  private readonly failures = new Map<string, Failures>();
  private readonly lastMarked = new Map<string, string>();

  constructor(
    readonly store: PromptStore,
    options: PromptRegistryOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.cacheMs = options.cacheMs ?? 5000;
    this.threshold = options.failureThreshold ?? 3;
    this.quarantineMs = options.quarantineMs ?? 300_000;
  }

  /** Store a prompt from YAML text or an already-parsed object; identical content finds its version. */
  async push(
    input: string | unknown,
    meta: { who: string; source?: string | undefined },
  ): Promise<PushResult> {
    const definition: PromptDefinition =
      typeof input === 'string' ? parsePromptFile(input, meta.source) : parsePromptObject(input, meta.source);
    const result = await this.store.push(definition, { who: meta.who, at: this.clock.now() });
    // A bare NAME without a production label means "latest", which a new version changes.
    if (result.created) this.invalidate(definition.name);
    return result;
  }

  list(): Promise<PromptSummary[]> {
    return this.store.list();
  }

  versions(name: string): Promise<PromptVersion[]> {
    return this.store.versions(checkName(name));
  }

  labels(name: string): Promise<Record<string, string>> {
    return this.store.labels(checkName(name));
  }

  /** `NAME`, `NAME@VERSION` or `NAME:LABEL` → a stored version. `fresh` skips the cache (admin reads). */
  resolve(ref: string | PromptRef, options: { fresh?: boolean } = {}): Promise<ResolvedPrompt> {
    const text = typeof ref === 'string' ? ref : formatRef(ref);
    const now = this.clock.now();
    const hit = options.fresh ? undefined : this.resolved.get(text);
    if (hit && (now - hit.at < this.cacheMs || text.includes('@'))) return hit.promise;
    let parsed: PromptRef;
    try {
      parsed = typeof ref === 'string' ? parseRef(ref) : ref;
    } catch (err) {
      return Promise.reject(err);
    }
    const promise = resolveRef(this.store, parsed);
    const entry = { name: parsed.name, at: now, promise };
    this.resolved.set(text, entry);
    // Misses are not cached: the next request asks again (and a bad ref cannot grow the map).
    promise.catch(() => {
      if (this.resolved.get(text) === entry) this.resolved.delete(text);
    });
    return promise;
  }

  /** Resolve and render, falling back to the last known-good version as described at the top. */
  async render(ref: string | PromptRef, variables: unknown): Promise<PreparedPrompt> {
    const resolved = await this.resolve(ref);
    const { version } = resolved;
    const pinned = resolved.ref.kind === 'version';
    const failing = pinned ? undefined : this.quarantined(version);
    if (failing !== undefined) {
      const good = await this.lastKnownGood(version.name, version.version);
      if (good) {
        try {
          return prepared(good, resolved.label, renderPrompt(good, variables, FALLBACK_RENDER), {
            from: version.version,
            to: good.version,
            reason: `version ${version.version} failed output validation ${failing} times in a row`,
          });
        } catch {
          // The known-good version cannot take these variables: serve the resolved one after all.
        }
      }
    }
    try {
      return prepared(version, resolved.label, renderPrompt(version, variables));
    } catch (err) {
      if (pinned || !(err instanceof PromptVariableError)) throw err;
      const good = await this.lastKnownGood(version.name, version.version);
      if (!good) throw err;
      let messages: RenderedMessage[];
      try {
        messages = renderPrompt(good, variables, FALLBACK_RENDER);
      } catch {
        // Neither renders: the caller's variables are wrong, and the error names them.
        throw err;
      }
      return prepared(good, resolved.label, messages, {
        from: version.version,
        to: good.version,
        reason: `version ${version.version} cannot be rendered: ${err.message}`,
      });
    }
  }

  /** Render one exact version (cached: versions are immutable); no fallback. */
  async renderVersion(
    name: string,
    version: string,
    variables: unknown,
    options: RenderOptions = {},
  ): Promise<PreparedPrompt> {
    const resolved = await this.resolve({ kind: 'version', name, version });
    return prepared(resolved.version, null, renderPrompt(resolved.version, variables, options));
  }

  /** The version most recently marked good, other than `excludeVersion` (cached for `cacheMs`). */
  lastKnownGood(name: string, excludeVersion?: string): Promise<PromptVersion | undefined> {
    const k = `${name}\u0000${excludeVersion ?? ''}`;
    const now = this.clock.now();
    const hit = this.knownGoodCache.get(k);
    if (hit && now - hit.at < this.cacheMs) return hit.promise;
    const promise = this.store.lastKnownGood(name, excludeVersion);
    const entry = { name, at: now, promise };
    this.knownGoodCache.set(k, entry);
    promise.catch(() => {
      if (this.knownGoodCache.get(k) === entry) this.knownGoodCache.delete(k);
    });
    return promise;
  }

  /** While `version` is skipped for failing validation: how many failures put it there. */
  quarantined(version: Pick<PromptVersion, 'name' | 'version'>): number | undefined {
    const k = key(version.name, version.version);
    const entry = this.failures.get(k);
    if (!entry || entry.until === 0) return undefined;
    if (this.clock.now() < entry.until) return entry.count;
    this.failures.delete(k);
    return undefined;
  }

  /** The feature path got an answer from `version` that passed validation. */
  async reportSuccess(version: Pick<PromptVersion, 'name' | 'version'>): Promise<void> {
    this.failures.delete(key(version.name, version.version));
    if (this.lastMarked.get(version.name) === version.version) return;
    this.lastMarked.set(version.name, version.version);
    this.dropKnownGood(version.name);
    await this.store.markGood(version.name, version.version, this.clock.now());
  }

  /** The feature path got an answer from `version` that failed validation. */
  reportFailure(version: Pick<PromptVersion, 'name' | 'version'>): void {
    const k = key(version.name, version.version);
    const entry = this.failures.get(k) ?? { count: 0, until: 0 };
    entry.count++;
    if (entry.count >= this.threshold && entry.until === 0)
      entry.until = this.clock.now() + this.quarantineMs;
    this.failures.set(k, entry);
    if (this.lastMarked.get(version.name) === version.version) this.lastMarked.delete(version.name);
  }

  async promote(
    name: string,
    version: string,
    label: string,
    meta: ActorMeta,
  ): Promise<LabelEvent | undefined> {
    checkName(name);
    checkVersion(version);
    checkLabel(label);
    const event = await this.store.setLabel(name, label, version, { ...meta, at: this.clock.now() });
    this.afterMove(name, version);
    return event;
  }

  async rollback(name: string, label: string, meta: ActorMeta): Promise<LabelEvent> {
    checkName(name);
    checkLabel(label);
    const event = await this.store.rollbackLabel(name, label, { ...meta, at: this.clock.now() });
    this.afterMove(name, event.version);
    return event;
  }

  async history(name: string, label?: string): Promise<LabelEvent[]> {
    checkName(name);
    if (label !== undefined) checkLabel(label);
    if (!(await this.store.latest(name))) throw new PromptNotFoundError(`no prompt "${name}"`, 'name');
    return this.store.labelHistory(name, label);
  }

  /** Diff two versions of one prompt; `a` and `b` are `@VERSION`, `:LABEL`, a version id or a label. */
  async diff(
    name: string,
    a: string,
    b: string,
  ): Promise<{ a: ResolvedPrompt; b: ResolvedPrompt; diff: string }> {
    checkName(name);
    const [from, to] = await Promise.all([
      this.resolve(selectorRef(name, a, 'a'), { fresh: true }),
      this.resolve(selectorRef(name, b, 'b'), { fresh: true }),
    ]);
    return {
      a: from,
      b: to,
      diff: diffPrompts(
        { name, version: from.version.version, body: from.version.body },
        { name, version: to.version.version, body: to.version.body },
      ),
    };
  }

  /** Forget cached resolutions (of one prompt, or all). */
  invalidate(name?: string): void {
    for (const [k, entry] of this.resolved)
      if (name === undefined || entry.name === name) this.resolved.delete(k);
    if (name === undefined) this.knownGoodCache.clear();
    else this.dropKnownGood(name);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private afterMove(name: string, version: string): void {
    // Moving a label onto a version is an operator saying "try this one": its failure count restarts.
    this.failures.delete(key(name, version));
    this.invalidate(name);
  }

  private dropKnownGood(name: string): void {
    for (const [k, entry] of this.knownGoodCache) if (entry.name === name) this.knownGoodCache.delete(k);
  }
}

function prepared(
  version: PromptVersion,
  label: string | null,
  messages: RenderedMessage[],
  fallback?: PromptFallback,
): PreparedPrompt {
  return {
    name: version.name,
    version: version.version,
    label,
    messages,
    params: version.body.params,
    ...(fallback ? { fallback } : {}),
  };
}
