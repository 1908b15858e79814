export const ENTITY_TYPES = ['EMAIL', 'PHONE', 'CARD', 'IBAN', 'NATIONAL_ID', 'IP', 'SECRET'] as const;

export type EntityType = (typeof ENTITY_TYPES)[number];

/** A detected entity: [start, end) offsets into the scanned text. Lower priority wins overlaps. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly type: EntityType;
  readonly priority: number;
}

export type Detector = (text: string, out: Span[]) => void;

export type BodyPolicyMode = 'redact' | 'hash' | 'drop';

export interface RedactionResult {
  readonly text: string;
  readonly found: Record<EntityType, number>;
}

export function emptyCounts(): Record<EntityType, number> {
  return { EMAIL: 0, PHONE: 0, CARD: 0, IBAN: 0, NATIONAL_ID: 0, IP: 0, SECRET: 0 };
}
