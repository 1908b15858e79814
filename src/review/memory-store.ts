/** In-memory ReviewStore: for tests and for a gateway run without a database. Lost on restart. */
import { ReviewNotFoundError } from './errors.ts';
import { exportGolden } from './golden.ts';
import { newReviewId } from './ids.ts';
import { closeItem } from './resolution.ts';
import type {
  GoldenCase,
  NewReviewItem,
  Resolution,
  ReviewItem,
  ReviewQuery,
  ReviewStatus,
  ReviewStore,
} from './store.ts';

export class MemoryReviewStore implements ReviewStore {
  readonly kind = 'memory';
  /** In enqueue order; the list reads it backwards. */
  private readonly items: ReviewItem[] = [];
  private readonly byId = new Map<string, number>();

  async enqueue(item: NewReviewItem, at: number): Promise<ReviewItem> {
    const stored: ReviewItem = { ...structuredClone(item), id: newReviewId(), createdAt: at, status: 'open' };
    this.byId.set(stored.id, this.items.length);
    this.items.push(stored);
    return structuredClone(stored);
  }

  async list(query: ReviewQuery = {}): Promise<ReviewItem[]> {
    const out: ReviewItem[] = [];
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    // Newest first: by creation time, ties in reverse enqueue order (as SQLite's rowid does).
    const order = this.items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => b.item.createdAt - a.item.createdAt || b.i - a.i);
    for (const { item } of order) {
      if (out.length >= limit) break;
      if (query.status === undefined || item.status === query.status) out.push(structuredClone(item));
    }
    return out;
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const i = this.byId.get(id);
    return i === undefined ? undefined : structuredClone(this.items[i]);
  }

  async counts(): Promise<Record<ReviewStatus, number>> {
    const counts = { open: 0, resolved: 0, rejected: 0 };
    for (const item of this.items) counts[item.status]++;
    return counts;
  }

  async resolve(id: string, resolution: Resolution, meta: { who: string; at: number }): Promise<ReviewItem> {
    const i = this.byId.get(id);
    if (i === undefined) throw new ReviewNotFoundError(id);
    const closed = closeItem(this.items[i]!, structuredClone(resolution), meta);
    this.items[i] = closed;
    return structuredClone(closed);
  }

  exportGolden(ids?: readonly string[]): Promise<GoldenCase[]> {
    return exportGolden(this, ids);
  }

  async close(): Promise<void> {}
}
