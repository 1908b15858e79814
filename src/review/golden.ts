/**
 * Golden-dataset export: a resolved item becomes one eval case,
 * `{ id, input: { variables?, messages? }, expected, contexts?, tags }`, written one JSON per line.
 * Tags carry where the case came from: the item's own tags, its reason, `feature:NAME`, `route:NAME`,
 * `prompt-version:VERSION`.
 */
import { ReviewNotFoundError, ReviewStateError } from './errors.ts';
import type { GoldenCase, ReviewItem, ReviewStore } from './store.ts';

export function goldenCase(item: ReviewItem): GoldenCase {
  const tags = [
    ...(item.tags ?? []),
    item.reason,
    ...(item.feature !== undefined ? [`feature:${item.feature}`] : []),
    ...(item.route !== undefined ? [`route:${item.route}`] : []),
    ...(item.promptVersion !== undefined ? [`prompt-version:${item.promptVersion}`] : []),
  ];
  return {
    id: item.id,
    input: item.input,
    ...(item.answer !== undefined ? { expected: item.answer } : {}),
    ...(item.contexts !== undefined ? { contexts: item.contexts } : {}),
    tags: [...new Set(tags)],
  };
}

export function toJsonl(cases: readonly GoldenCase[]): string {
  return cases.map((c) => `${JSON.stringify(c)}\n`).join('');
}

/** The shared exportGolden of both stores. */
export async function exportGolden(
  store: Pick<ReviewStore, 'get' | 'list'>,
  ids?: readonly string[],
): Promise<GoldenCase[]> {
  if (ids === undefined) {
    const resolved = await store.list({ status: 'resolved' });
    return resolved.reverse().map(goldenCase);
  }
  const cases: GoldenCase[] = [];
  for (const id of ids) {
    const item = await store.get(id);
    if (!item) throw new ReviewNotFoundError(id);
    if (item.status !== 'resolved') {
      throw new ReviewStateError(`review item ${id} is ${item.status}: only resolved items export`);
    }
    cases.push(goldenCase(item));
  }
  return cases;
}
