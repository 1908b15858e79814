export { ReviewNotFoundError, ReviewStateError } from './errors.ts';
export {
  type EscalationRequest,
  escalationItem,
  type ReviewPortOptions,
  reviewPort,
} from './feature-port.ts';
export { exportGolden, goldenCase, toJsonl } from './golden.ts';
export { REVIEW_ID } from './ids.ts';
export { MemoryReviewStore } from './memory-store.ts';
export { openReviewStore, type ReviewStoreSpec } from './open-store.ts';
export { DEFAULT_REVIEW_DB_PATH, SqliteReviewStore, type SqliteReviewStoreOptions } from './sqlite-store.ts';
export {
  type GoldenCase,
  type NewReviewItem,
  REVIEW_REASONS,
  REVIEW_STATUSES,
  type Resolution,
  type ReviewAnswer,
  type ReviewInput,
  type ReviewItem,
  type ReviewQuery,
  type ReviewReason,
  type ReviewStatus,
  type ReviewStore,
} from './store.ts';
