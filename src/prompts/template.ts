/**
 * Message templates: plain `{{name}}` or `{{name.field}}` substitution, nothing else — no expressions,
 * no helpers, no code. Substitution is one pass: a value that itself contains `{{x}}` stays literal.
 */

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const REFERENCE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export interface Placeholder {
  /** As written, braces included. */
  raw: string;
  /** `name.field` split on dots; undefined when the text between the braces is not a reference. */
  path: string[] | undefined;
}

export function placeholders(content: string): Placeholder[] {
  return [...content.matchAll(PLACEHOLDER)].map((m) => {
    const inner = m[1]!.trim();
    return { raw: m[0], path: REFERENCE.test(inner) ? inner.split('.') : undefined };
  });
}

/** Replace every placeholder with `lookup(path)`; callers validate the template first. */
export function substitute(content: string, lookup: (path: string[], raw: string) => string): string {
  return content.replace(PLACEHOLDER, (raw, inner: string) => lookup(inner.trim().split('.'), raw));
}

/** A variable value as it appears in the text: strings as they are, everything else as JSON. */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
