/**
 * Typed, numbered placeholders for PII (`<EMAIL_1>`, `<PHONE_2>`) and the mapping back to the original
 * values, so a model never sees the PII and the user still gets an answer that names it.
 *
 * One PlaceholderMap lives for one request: input guards fill it (restorable entries), output guards add
 * entries for PII the model produced (not restorable: it stays redacted), and `restorePlaceholders` puts
 * the user's own values back into the answer.
 */
import type { EntityType } from '../telemetry/redaction.ts';

/** Placeholder → original value. Holds raw PII: keep it in memory for the request, never log or store it. */
export type PlaceholderMapping = Readonly<Record<string, string>>;

/** Values that differ only in formatting are the same entity: one placeholder. */
function sameValueKey(type: EntityType, value: string): string {
  switch (type) {
    case 'EMAIL':
    case 'IP':
      return `${type}:${value.toLowerCase()}`;
    case 'SECRET':
      return `${type}:${value}`;
    default:
      return `${type}:${value.replace(/[\s()./-]/g, '').toUpperCase()}`;
  }
}

export class PlaceholderMap {
  private readonly byValue = new Map<string, string>();
  private readonly values = new Map<string, { value: string; restorable: boolean }>();
  private readonly counters = new Map<EntityType, number>();

  /** The placeholder for `value`; the same value (up to formatting) always gets the same one. */
  placeholderFor(type: EntityType, value: string, restorable: boolean): string {
    const key = sameValueKey(type, value);
    const known = this.byValue.get(key);
    if (known !== undefined) return known;
    const n = (this.counters.get(type) ?? 0) + 1;
    this.counters.set(type, n);
    const placeholder = `<${type}_${n}>`;
    this.byValue.set(key, placeholder);
    this.values.set(placeholder, { value, restorable });
    return placeholder;
  }

  /** Placeholder → value for the entries that may be restored (those found in the input). */
  mapping(): PlaceholderMapping {
    const out: Record<string, string> = {};
    for (const [placeholder, { value, restorable }] of this.values) if (restorable) out[placeholder] = value;
    return out;
  }

  get size(): number {
    return this.values.size;
  }
}

/** `<EMAIL_1>`; models sometimes change the case, so `<email_1>` is recognised too. */
const PLACEHOLDER = /<([A-Za-z]+(?:_[A-Za-z]+)*)_(\d+)>/g;

/**
 * Put original values back in place of their placeholders. Unknown placeholders are left as they are.
 *
 * @example
 * restorePlaceholders('We will email <EMAIL_1>.', { '<EMAIL_1>': 'ana@example.com' }); // 'We will email ana@example.com.'
 */
export function restorePlaceholders(text: string, mapping: PlaceholderMapping): string {
  if (!text.includes('<')) return text;
  return text.replace(PLACEHOLDER, (whole, type: string, n: string) => {
    return mapping[`<${type.toUpperCase()}_${n}>`] ?? whole;
  });
}

/** Longest text a placeholder can have (`<NATIONAL_ID_` plus digits and `>`); longer tails are not held. */
const MAX_PLACEHOLDER = 24;

/**
 * Restores placeholders in a streamed answer, where one may be split across chunks (`<EMA` + `IL_1>`):
 * a trailing `<…` that could still become a placeholder is held back until the next chunk or `end()`.
 */
export function createPlaceholderRestorer(mapping: PlaceholderMapping): {
  push(chunk: string): string;
  end(): string;
} {
  let held = '';
  return {
    push(chunk) {
      const text = held + chunk;
      const open = text.lastIndexOf('<');
      const tail = open >= 0 ? text.slice(open) : '';
      const couldGrow = tail.length < MAX_PLACEHOLDER && /^<[A-Za-z_]*\d*$/.test(tail);
      held = couldGrow ? tail : '';
      return restorePlaceholders(couldGrow ? text.slice(0, open) : text, mapping);
    },
    end() {
      const rest = restorePlaceholders(held, mapping);
      held = '';
      return rest;
    },
  };
}
