/**
 * Admin API for features: the prompt registry (prompts-admin.ts), the human review queue
 * (review-admin.ts), and release status per feature.
 *
 *   GET /admin/releases/:feature   canary and shadow traffic, baseline vs candidate (`keel release status`)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { didYouMean } from '../config/suggest.ts';
import { KeelError } from '../core/errors.ts';
import type { AuditLog } from '../edge/audit/audit.ts';
import type { ReleaseLog } from '../features/release-stats.ts';
import type { ShadowCounts } from '../features/shadow.ts';
import type { PromptRegistry } from '../prompts/registry.ts';
import type { ReviewStore } from '../review/store.ts';
import { redactReviewItem } from './features.ts';
import { registerPromptAdmin } from './prompts-admin.ts';
import { registerReviewAdmin } from './review-admin.ts';

export interface FeatureAdminOptions {
  prompts: PromptRegistry;
  review: ReviewStore;
  releases: ReleaseLog;
  /** Shadow runs of every feature: started, dropped when the runner was busy, failed. */
  shadowStats: () => ShadowCounts;
  guard: (request: FastifyRequest) => void | Promise<void>;
  audit?: Pick<AuditLog, 'append'> | undefined;
  /** Feature names of the running config (read per request: they change on reload). */
  knownFeatures: () => string[];
}

export function registerFeatureAdmin(app: FastifyInstance, options: FeatureAdminOptions): void {
  const { guard, audit } = options;
  registerPromptAdmin(app, { registry: options.prompts, guard, audit });
  // Items enqueued through the API are redacted like traces: the queue never stores raw PII.
  registerReviewAdmin(app, {
    store: options.review,
    guard,
    audit,
    redact: redactReviewItem,
  });

  app.get<{ Params: { feature: string } }>('/admin/releases/:feature', async (request) => {
    await guard(request);
    const name = request.params.feature;
    const known = options.knownFeatures();
    if (!known.includes(name)) {
      throw new KeelError(
        'KEEL_FEATURE_NOT_FOUND',
        `feature "${name.slice(0, 100)}" is not declared${didYouMean(name, known)}; features: ${known.join(', ') || 'none'}`,
        { param: 'feature' },
      );
    }
    return { ...options.releases.status(name), shadowRuns: options.shadowStats() };
  });
}
