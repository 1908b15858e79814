/**
 * The human review queue's items and the ReviewStore contract (memory and SQLite pass one suite).
 *
 * An item is an escalated request (the feature could not answer with confidence) or a flagged answer
 * (validation failed, or a user flagged it). A reviewer resolves it with the right answer, or rejects
 * it. Resolved items export as golden-dataset cases for the eval harness. Inputs are stored as given:
 * the caller redacts them before enqueueing.
 */
import type { ChatMessage } from '../core/types.ts';

export const REVIEW_STATUSES = ['open', 'resolved', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];
export const REVIEW_REASONS = ['escalated', 'flagged'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

export interface ReviewInput {
  messages?: ChatMessage[];
  variables?: Record<string, unknown>;
}

export interface NewReviewItem {
  reason: ReviewReason;
  feature?: string;
  route?: string;
  traceId?: string;
  /** The prompt version that produced the answer. */
  promptVersion?: string;
  input: ReviewInput;
  /** The answer that was flagged (text or JSON). */
  output?: unknown;
  /** Retrieved context the answer was grounded on. */
  contexts?: string[];
  /** What the validators said. */
  validation?: unknown;
  tags?: string[];
}

export interface ReviewItem extends NewReviewItem {
  id: string;
  createdAt: number;
  status: ReviewStatus;
  /** The reviewer's answer (resolved items): text, or an object for a feature with a JSON contract. */
  answer?: ReviewAnswer;
  resolvedBy?: string;
  resolvedAt?: number;
  note?: string;
}

/** What the eval harness accepts as `expected`. */
export type ReviewAnswer = string | Record<string, unknown>;

export type Resolution =
  | { answer: ReviewAnswer; note?: string | undefined }
  | { reject: true; note?: string | undefined };

export interface ReviewQuery {
  status?: ReviewStatus | undefined;
  /** Default: all. */
  limit?: number | undefined;
}

/** One line of a golden dataset, the eval harness's case format. */
export interface GoldenCase {
  id: string;
  input: ReviewInput;
  expected?: ReviewAnswer;
  contexts?: string[];
  tags?: string[];
}

export interface ReviewStore {
  readonly kind: string;
  enqueue(item: NewReviewItem, at: number): Promise<ReviewItem>;
  /** Newest first. */
  list(query?: ReviewQuery): Promise<ReviewItem[]>;
  get(id: string): Promise<ReviewItem | undefined>;
  counts(): Promise<Record<ReviewStatus, number>>;
  /** Close an open item: ReviewNotFoundError, or ReviewStateError when it is not open. */
  resolve(id: string, resolution: Resolution, meta: { who: string; at: number }): Promise<ReviewItem>;
  /** Golden cases for `ids` (each must be resolved), or for every resolved item, oldest first. */
  exportGolden(ids?: readonly string[]): Promise<GoldenCase[]>;
  close(): Promise<void>;
}
