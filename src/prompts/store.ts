/**
 * The PromptStore contract, shared by the memory and SQLite stores (and run against both by one test
 * suite). Versions are immutable; labels are movable pointers whose every move is kept as history.
 */
import type { PromptBody, PromptDefinition } from './schema.ts';

export interface PromptVersion {
  name: string;
  /** Content hash: 12 hex digits (see version-id.ts). */
  version: string;
  /** 1, 2, 3… in push order within the prompt. */
  seq: number;
  body: PromptBody;
  createdAt: number;
  createdBy: string;
  /** When the feature path last saw this version work (see markGood); null if never. */
  goodAt: number | null;
}

export interface PromptSummary {
  name: string;
  description: string | null;
  versions: number;
  latest: string;
  /** label → version */
  labels: Record<string, string>;
  updatedAt: number;
}

export type LabelAction = 'promote' | 'rollback';

export interface LabelEvent {
  id: number;
  name: string;
  label: string;
  action: LabelAction;
  version: string;
  /** What the label pointed to before; null for its first promotion. */
  previous: string | null;
  who: string;
  reason: string | null;
  at: number;
}

export interface ChangeMeta {
  who: string;
  at: number;
  reason?: string | undefined;
}

export interface PushResult {
  version: PromptVersion;
  /** False when identical content was already stored: the existing version comes back. */
  created: boolean;
}

export interface PromptStore {
  readonly kind: string;
  push(definition: PromptDefinition, meta: Omit<ChangeMeta, 'reason'>): Promise<PushResult>;
  /** Every prompt, by name. */
  list(): Promise<PromptSummary[]>;
  /** A prompt's versions, oldest first; empty when there is no such prompt. */
  versions(name: string): Promise<PromptVersion[]>;
  getVersion(name: string, version: string): Promise<PromptVersion | undefined>;
  latest(name: string): Promise<PromptVersion | undefined>;
  /** label → version for one prompt. */
  labels(name: string): Promise<Record<string, string>>;
  /**
   * Point `label` at `version` (which must exist: PromptNotFoundError) and record the move.
   * Returns undefined, recording nothing, when the label already points there.
   */
  setLabel(name: string, label: string, version: string, meta: ChangeMeta): Promise<LabelEvent | undefined>;
  /** Move `label` back one step of its history; PromptRequestError when there is no earlier step. */
  rollbackLabel(name: string, label: string, meta: ChangeMeta): Promise<LabelEvent>;
  /** Label moves of one prompt (or one of its labels), newest first. */
  labelHistory(name: string, label?: string): Promise<LabelEvent[]>;
  /** Record that `version` just worked in the feature path. */
  markGood(name: string, version: string, at: number): Promise<void>;
  /** The version most recently marked good, other than `excludeVersion`. */
  lastKnownGood(name: string, excludeVersion?: string): Promise<PromptVersion | undefined>;
  close(): Promise<void>;
}
