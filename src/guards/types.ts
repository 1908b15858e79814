/**
 * The guard contract. A guard inspects one piece of message text at one stage and says whether it
 * triggered and why; what happens then (block, redact, flag) is the guard's configured action, applied by
 * the runner (runner.ts).
 */
import type { ChatMessage, Role } from '../core/types.ts';
import type { PlaceholderMap } from './placeholders.ts';

export type GuardStage = 'input' | 'output';

/** block: stop the request; redact: use the guard's rewrite of the text; flag: record only. */
export type GuardAction = 'block' | 'redact' | 'flag';

export interface GuardContext {
  readonly stage: GuardStage;
  /** Role of the message the text belongs to. */
  readonly role: Role;
  /** Index of that message in `messages`. */
  readonly messageIndex: number;
  /** The conversation as rewritten so far by earlier guards and earlier messages. */
  readonly messages: readonly ChatMessage[];
  /** Placeholders given out in this run (shared by every PII guard, numbering stable across messages). */
  readonly placeholders: PlaceholderMap;
}

export interface GuardCheck {
  readonly triggered: boolean;
  /** Why, for logs and traces. Names entity types, rules and configured terms — never the user's text. */
  readonly reasons: readonly string[];
  /** Replacement text, used when the guard's action is 'redact'. */
  readonly rewrite?: string;
}

export interface Guard {
  readonly name: string;
  readonly stage: GuardStage;
  readonly action: GuardAction;
  /** Roles whose messages the guard reads. */
  readonly roles: readonly Role[];
  check(text: string, ctx: GuardContext): GuardCheck;
}

export const NOT_TRIGGERED: GuardCheck = { triggered: false, reasons: [] };
