/** The review store a config asks for: `{ type: 'sqlite', path? }` or `{ type: 'memory' }`. */
import { MemoryReviewStore } from './memory-store.ts';
import { SqliteReviewStore } from './sqlite-store.ts';
import type { ReviewStore } from './store.ts';

export type ReviewStoreSpec = { type: 'sqlite'; path?: string | undefined } | { type: 'memory' };

export function openReviewStore(spec: ReviewStoreSpec): ReviewStore {
  if (spec.type === 'memory') return new MemoryReviewStore();
  return new SqliteReviewStore(spec.path === undefined ? {} : { path: spec.path });
}
