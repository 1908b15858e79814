/**
 * Kill switches: an operator turns a route, target, tool or feature off at once, without a deploy.
 *
 * `isKilled` is synchronous and O(1): it reads an in-memory map. A flip made through this object
 * updates the map before `kill`/`unkill` resolve, so the very next request in this process sees it.
 * Flips made by other replicas (sharing the control store) arrive with the periodic refresh, every
 * `refreshMs` (default 1 s). Every flip is written to the audit log.
 *
 * What each scope means is up to the request path (see `check`): a killed route, feature or tool
 * refuses the request with a 503; a killed target is skipped by the chain like an open breaker.
 */
import { type Clock, systemClock } from '../../core/clock.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { ControlStore, KillScope, KillSwitch } from '../control-store/types.ts';
import { killedError } from './errors.ts';

export interface KillSwitchesOptions {
  clock?: Pick<Clock, 'now'> | undefined;
  /** How often to re-read the store for other replicas' flips; default 1000 ms. 0 = never. */
  refreshMs?: number | undefined;
  /** A failed periodic refresh (the old map keeps serving). */
  onError?: ((err: unknown) => void) | undefined;
}

const id = (scope: KillScope, name: string) => `${scope}\u0000${name}`;

export class KillSwitches {
  private map = new Map<string, KillSwitch>();
  /** Bumped by every local flip: a refresh that started before one must not overwrite it. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(
    private readonly store: Pick<ControlStore, 'putKill' | 'deleteKill' | 'listKills'>,
    private readonly audit: AuditLog,
    private readonly options: KillSwitchesOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Loads the switches and starts the periodic refresh. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.options.refreshMs ?? 1000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => {
        this.refresh().catch((err: unknown) => this.options.onError?.(err));
      }, every);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads every switch from the store. */
  async refresh(): Promise<void> {
    const started = this.generation;
    const kills = await this.store.listKills();
    // A local flip landed while we read: our snapshot may predate it; the next refresh will do.
    if (this.generation !== started) return;
    this.map = new Map(kills.map((k) => [id(k.scope, k.name), k]));
  }

  isKilled(scope: KillScope, name: string): boolean {
    return this.map.size !== 0 && this.map.has(id(scope, name));
  }

  get(scope: KillScope, name: string): KillSwitch | undefined {
    return this.map.get(id(scope, name));
  }

  /** Oldest flip first. */
  list(): KillSwitch[] {
    return [...this.map.values()].sort((a, b) => a.at - b.at);
  }

  /** Turn it off. Killing what is already killed replaces the reason (and is audited again). */
  async kill(scope: KillScope, name: string, by: { reason: string; who: string }): Promise<KillSwitch> {
    const entry: KillSwitch = { scope, name, reason: by.reason, who: by.who, at: this.clock.now() };
    await this.store.putKill(entry);
    this.generation++;
    const previous = this.map.get(id(scope, name));
    this.map.set(id(scope, name), entry);
    await this.audit.append({
      who: by.who,
      action: 'kill',
      subject: `${scope}:${name}`,
      reason: by.reason,
      details: {
        scope,
        name,
        ...(previous ? { replaced: { reason: previous.reason, who: previous.who } } : {}),
      },
    });
    return entry;
  }

  /** Turn it back on. Undefined (and nothing audited) when it was not killed. */
  async unkill(
    scope: KillScope,
    name: string,
    by: { who: string; reason?: string | undefined },
  ): Promise<KillSwitch | undefined> {
    const removed = await this.store.deleteKill(scope, name);
    this.generation++;
    const local = this.map.get(id(scope, name));
    this.map.delete(id(scope, name));
    const was = removed ?? local;
    if (!was) return undefined;
    await this.audit.append({
      who: by.who,
      action: 'unkill',
      subject: `${scope}:${name}`,
      ...(by.reason !== undefined ? { reason: by.reason } : {}),
      details: { scope, name, killedAt: was.at, killedBy: was.who, killReason: was.reason },
    });
    return was;
  }

  /**
   * The request-path check: throws the 503 when the route, the request's feature, or any tool it
   * offers is killed. Targets are not checked here: the chain skips killed targets.
   */
  check(request: {
    route: string;
    feature?: string | undefined;
    tools?: readonly string[] | undefined;
  }): void {
    if (this.map.size === 0) return;
    if (this.map.has(id('route', request.route))) throw killedError('route', request.route);
    if (request.feature !== undefined && this.map.has(id('feature', request.feature))) {
      throw killedError('feature', request.feature);
    }
    for (const tool of request.tools ?? []) {
      if (this.map.has(id('tool', tool))) throw killedError('tool', tool);
    }
  }
}
