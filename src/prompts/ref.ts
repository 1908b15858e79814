/**
 * Prompt references: `NAME` (the `production` label, else the latest version), `NAME@VERSION` (one
 * immutable version) and `NAME:LABEL` (whatever the label points to now).
 */
import { PromptRequestError } from './errors.ts';
import { PROMPT_NAME } from './schema.ts';
import { VERSION_ID } from './version-id.ts';

export const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const DEFAULT_LABEL = 'production';

export type PromptRef =
  | { kind: 'default'; name: string }
  | { kind: 'version'; name: string; version: string }
  | { kind: 'label'; name: string; label: string };

export function formatRef(ref: PromptRef): string {
  if (ref.kind === 'version') return `${ref.name}@${ref.version}`;
  if (ref.kind === 'label') return `${ref.name}:${ref.label}`;
  return ref.name;
}

export function checkName(name: string, param = 'name'): string {
  if (!PROMPT_NAME.test(name)) {
    throw new PromptRequestError(
      `${param}: "${name.slice(0, 80)}" is not a prompt name (1-64 letters, digits, ".", "_" or "-")`,
      param,
    );
  }
  return name;
}

export function checkLabel(label: string, param = 'label'): string {
  if (!LABEL_NAME.test(label)) {
    throw new PromptRequestError(
      `${param}: "${label.slice(0, 80)}" is not a label (1-32 letters, digits, "_" or "-")`,
      param,
    );
  }
  return label;
}

export function checkVersion(version: string, param = 'version'): string {
  if (!VERSION_ID.test(version)) {
    throw new PromptRequestError(
      `${param}: "${version.slice(0, 80)}" is not a version id (12 lowercase hex digits)`,
      param,
    );
  }
  return version;
}

/** Parse `NAME`, `NAME@VERSION` or `NAME:LABEL`; a malformed reference is a 400 naming `param`. */
export function parseRef(text: string, param = 'ref'): PromptRef {
  const at = text.indexOf('@');
  const colon = text.indexOf(':');
  if (at >= 0 && colon >= 0) {
    throw new PromptRequestError(`${param}: use NAME@VERSION or NAME:LABEL, not both`, param);
  }
  if (at >= 0) {
    return {
      kind: 'version',
      name: checkName(text.slice(0, at), param),
      version: checkVersion(text.slice(at + 1), param),
    };
  }
  if (colon >= 0) {
    return {
      kind: 'label',
      name: checkName(text.slice(0, colon), param),
      label: checkLabel(text.slice(colon + 1), param),
    };
  }
  return { kind: 'default', name: checkName(text, param) };
}

/**
 * A selector within one prompt: `@VERSION`, `:LABEL`, or bare — a version id when it looks like one
 * (12 hex digits), else a label. Used by diff, where both sides belong to the same prompt.
 */
export function selectorRef(name: string, selector: string, param: string): PromptRef {
  if (selector.startsWith('@') || selector.startsWith(':')) return parseRef(`${name}${selector}`, param);
  if (VERSION_ID.test(selector)) return { kind: 'version', name, version: selector };
  return { kind: 'label', name, label: checkLabel(selector, param) };
}
