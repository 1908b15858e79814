/**
 * PII redaction for traces. Runs before anything is written to a store or an
 * exporter. Pure code, no I/O.
 *
 * - redact(text): entities become typed, numbered placeholders (`<EMAIL_1>`),
 *   numbered per type and stable within one call (same value, same placeholder).
 * - hashPii(text, salt): entities become keyed digests (`<EMAIL:ab12cd34>`) so
 *   equal values can be correlated across traces without being stored.
 * - redactDeep(value): the same over every string of a JSON-like value; string
 *   values under secret-looking keys (`password`, `api_key`, …) are secrets whole.
 * - applyBodyPolicy(value, mode, salt): 'redact' | 'hash' | 'drop'. Fails closed:
 *   any error yields '[dropped: redaction failed]', never the raw body.
 */
export {
  applyBodyPolicy,
  DROPPED_BODY,
  detect,
  hashPii,
  REDACTION_FAILED,
  redact,
  redactDeep,
} from './redaction/redact.ts';
export type { BodyPolicyMode, EntityType, RedactionResult, Span } from './redaction/types.ts';
export { ENTITY_TYPES } from './redaction/types.ts';
