/** The prompt store a config asks for: `{ type: 'sqlite', path? }` or `{ type: 'memory' }`. */
import { MemoryPromptStore } from './memory-store.ts';
import { SqlitePromptStore } from './sqlite-store.ts';
import type { PromptStore } from './store.ts';

export type PromptStoreSpec = { type: 'sqlite'; path?: string | undefined } | { type: 'memory' };

export function openPromptStore(spec: PromptStoreSpec): PromptStore {
  if (spec.type === 'memory') return new MemoryPromptStore();
  return new SqlitePromptStore(spec.path === undefined ? {} : { path: spec.path });
}
