/**
 * Turning a reference into a stored version: `NAME` → the `production` label, or the latest version
 * when the prompt has no production label; `NAME:LABEL` → where the label points; `NAME@VERSION` →
 * that version. Unknown names, labels and versions are PromptNotFoundError naming what is missing.
 */
import { PromptNotFoundError } from './errors.ts';
import { DEFAULT_LABEL, type PromptRef } from './ref.ts';
import type { PromptStore, PromptVersion } from './store.ts';

export interface ResolvedPrompt {
  ref: PromptRef;
  version: PromptVersion;
  /** The label that led here (`production` for a bare name that has one); null otherwise. */
  label: string | null;
}

async function requireVersion(store: PromptStore, name: string, version: string): Promise<PromptVersion> {
  const found = await store.getVersion(name, version);
  if (found) return found;
  if (!(await store.latest(name))) throw new PromptNotFoundError(`no prompt "${name}"`);
  throw new PromptNotFoundError(`prompt "${name}" has no version ${version}`);
}

export async function resolveRef(store: PromptStore, ref: PromptRef): Promise<ResolvedPrompt> {
  if (ref.kind === 'version') {
    return { ref, version: await requireVersion(store, ref.name, ref.version), label: null };
  }
  const labels = await store.labels(ref.name);
  const label = ref.kind === 'label' ? ref.label : DEFAULT_LABEL;
  const pointed = labels[label];
  if (pointed !== undefined) {
    return { ref, version: await requireVersion(store, ref.name, pointed), label };
  }
  const latest = await store.latest(ref.name);
  if (!latest) throw new PromptNotFoundError(`no prompt "${ref.name}"`);
  if (ref.kind === 'default') return { ref, version: latest, label: null };
  const names = Object.keys(labels);
  const known = names.length === 0 ? 'it has no labels yet' : `its labels: ${names.join(', ')}`;
  throw new PromptNotFoundError(`prompt "${ref.name}" has no label "${ref.label}" (${known})`);
}
