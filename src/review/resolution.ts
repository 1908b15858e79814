/** Closing an item, shared by both stores: only an open item can be resolved or rejected. */
import { ReviewStateError } from './errors.ts';
import type { Resolution, ReviewItem } from './store.ts';

export function closeItem(
  item: ReviewItem,
  resolution: Resolution,
  meta: { who: string; at: number },
): ReviewItem {
  if (item.status !== 'open') {
    const by = item.resolvedBy !== undefined ? ` by ${item.resolvedBy}` : '';
    throw new ReviewStateError(`review item ${item.id} is already ${item.status}${by}`);
  }
  const { answer: _answer, note: _note, ...rest } = item;
  return {
    ...rest,
    status: 'reject' in resolution ? 'rejected' : 'resolved',
    ...('answer' in resolution ? { answer: resolution.answer } : {}),
    resolvedBy: meta.who,
    resolvedAt: meta.at,
    ...(resolution.note !== undefined ? { note: resolution.note } : {}),
  };
}
