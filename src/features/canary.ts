/**
 * Canary assignment: `release.canary.percent` of users (or sessions) get the `canary` label, chosen
 * by a hash of `feature|id` so one user keeps seeing one version. A call without the id stays on the
 * baseline: it cannot be sticky.
 */
import { inSample } from './buckets.ts';
import type { FeatureConfig } from './config.ts';

export const CANARY_LABEL = 'canary';

export type ReleaseArm = 'baseline' | 'canary';

export function canaryArm(
  feature: string,
  canary: NonNullable<FeatureConfig['release']>['canary'],
  who: { user?: string | undefined; session?: string | undefined },
): ReleaseArm {
  if (!canary || canary.percent <= 0) return 'baseline';
  const id = canary.by === 'user' ? who.user : who.session;
  if (id === undefined || id === '') return 'baseline';
  return inSample(`${feature}|${id}`, canary.percent) ? 'canary' : 'baseline';
}
