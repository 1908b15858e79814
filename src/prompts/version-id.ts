/**
 * Version ids are content hashes: the first 12 hex digits of sha256 over the canonical JSON (keys
 * sorted, no whitespace) of the prompt body after validation and defaults. The name is not part of
 * the hash: versions live under their prompt's name, and the same body under two names is the same
 * content. Pushing identical content again therefore finds the existing version.
 */
import { createHash } from 'node:crypto';
import type { PromptBody, PromptDefinition } from './schema.ts';

export const VERSION_ID = /^[0-9a-f]{12}$/;

/** JSON with object keys sorted at every level; undefined members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function promptBody(definition: PromptDefinition): PromptBody {
  const { name: _name, ...body } = definition;
  return body;
}

export function versionId(body: PromptBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 12);
}
