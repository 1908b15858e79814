/**
 * In-memory PromptStore: for tests and for a gateway run without a database. Lost on restart.
 */
import { PromptNotFoundError } from './errors.ts';
import { rollbackTarget } from './label-steps.ts';
import type { PromptDefinition } from './schema.ts';
import type {
  ChangeMeta,
  LabelEvent,
  PromptStore,
  PromptSummary,
  PromptVersion,
  PushResult,
} from './store.ts';
import { promptBody, versionId } from './version-id.ts';

interface Entry {
  versions: PromptVersion[];
  labels: Map<string, string>;
  events: LabelEvent[];
  updatedAt: number;
}

export class MemoryPromptStore implements PromptStore {
  readonly kind = 'memory';
  private readonly prompts = new Map<string, Entry>();
  private nextEventId = 1;

  async push(definition: PromptDefinition, meta: Omit<ChangeMeta, 'reason'>): Promise<PushResult> {
    const body = structuredClone(promptBody(definition));
    const version = versionId(body);
    let entry = this.prompts.get(definition.name);
    if (!entry) {
      entry = { versions: [], labels: new Map(), events: [], updatedAt: meta.at };
      this.prompts.set(definition.name, entry);
    }
    const existing = entry.versions.find((v) => v.version === version);
    if (existing) return { version: { ...existing }, created: false };
    const stored: PromptVersion = {
      name: definition.name,
      version,
      seq: entry.versions.length + 1,
      body,
      createdAt: meta.at,
      createdBy: meta.who,
      goodAt: null,
    };
    entry.versions.push(stored);
    entry.updatedAt = meta.at;
    return { version: { ...stored }, created: true };
  }

  async list(): Promise<PromptSummary[]> {
    return [...this.prompts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, e]) => ({
        name,
        description: e.versions.at(-1)?.body.description ?? null,
        versions: e.versions.length,
        latest: e.versions.at(-1)!.version,
        labels: Object.fromEntries([...e.labels].sort(([a], [b]) => (a < b ? -1 : 1))),
        updatedAt: e.updatedAt,
      }));
  }

  async versions(name: string): Promise<PromptVersion[]> {
    return (this.prompts.get(name)?.versions ?? []).map((v) => ({ ...v }));
  }

  async getVersion(name: string, version: string): Promise<PromptVersion | undefined> {
    const found = this.prompts.get(name)?.versions.find((v) => v.version === version);
    return found && { ...found };
  }

  async latest(name: string): Promise<PromptVersion | undefined> {
    const last = this.prompts.get(name)?.versions.at(-1);
    return last && { ...last };
  }

  async labels(name: string): Promise<Record<string, string>> {
    const labels = this.prompts.get(name)?.labels ?? new Map<string, string>();
    return Object.fromEntries([...labels].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  async setLabel(
    name: string,
    label: string,
    version: string,
    meta: ChangeMeta,
  ): Promise<LabelEvent | undefined> {
    const entry = this.prompts.get(name);
    if (!entry?.versions.some((v) => v.version === version)) {
      throw new PromptNotFoundError(`prompt "${name}" has no version ${version}`, 'version');
    }
    const previous = entry.labels.get(label) ?? null;
    if (previous === version) return undefined;
    return this.move(entry, { name, label, action: 'promote', version, previous }, meta);
  }

  async rollbackLabel(name: string, label: string, meta: ChangeMeta): Promise<LabelEvent> {
    const entry = this.prompts.get(name);
    if (!entry) throw new PromptNotFoundError(`no prompt "${name}"`, 'name');
    const { from, to } = rollbackTarget(
      name,
      label,
      entry.events.filter((e) => e.label === label),
    );
    return this.move(entry, { name, label, action: 'rollback', version: to, previous: from }, meta);
  }

  private move(
    entry: Entry,
    change: Pick<LabelEvent, 'name' | 'label' | 'action' | 'version' | 'previous'>,
    meta: ChangeMeta,
  ): LabelEvent {
    const event: LabelEvent = {
      id: this.nextEventId++,
      ...change,
      who: meta.who,
      reason: meta.reason ?? null,
      at: meta.at,
    };
    entry.events.push(event);
    entry.labels.set(change.label, change.version);
    entry.updatedAt = meta.at;
    return event;
  }

  async labelHistory(name: string, label?: string): Promise<LabelEvent[]> {
    const events = this.prompts.get(name)?.events ?? [];
    return events.filter((e) => label === undefined || e.label === label).reverse();
  }

  async markGood(name: string, version: string, at: number): Promise<void> {
    const found = this.prompts.get(name)?.versions.find((v) => v.version === version);
    if (found) found.goodAt = at;
  }

  async lastKnownGood(name: string, excludeVersion?: string): Promise<PromptVersion | undefined> {
    let best: PromptVersion | undefined;
    for (const v of this.prompts.get(name)?.versions ?? []) {
      if (v.goodAt === null || v.version === excludeVersion) continue;
      if (!best || v.goodAt > best.goodAt! || (v.goodAt === best.goodAt && v.seq > best.seq)) best = v;
    }
    return best && { ...best };
  }

  async close(): Promise<void> {}
}
