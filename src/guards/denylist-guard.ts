/**
 * The denylist guard: configured words, phrases and regular expressions, matched case-insensitively at
 * word boundaries (see terms.ts). 'redact' replaces each match; reasons name the term, not the text.
 */
import type { Role } from '../core/types.ts';
import { type CompiledTerm, findTerms, replaceHits } from './terms.ts';
import type { Guard, GuardAction, GuardCheck, GuardStage } from './types.ts';
import { NOT_TRIGGERED } from './types.ts';

export interface DenylistGuardOptions {
  name?: string;
  stage: GuardStage;
  action: GuardAction;
  terms: readonly CompiledTerm[];
  /** What a match becomes under 'redact'. Default '[redacted]'. */
  replacement?: string;
  roles?: readonly Role[];
}

export function denylistGuard(opts: DenylistGuardOptions): Guard {
  const replacement = opts.replacement ?? '[redacted]';
  return {
    name: opts.name ?? 'denylist',
    stage: opts.stage,
    action: opts.action,
    roles: opts.roles ?? (opts.stage === 'input' ? ['user'] : ['assistant']),
    check(text: string): GuardCheck {
      const hits = findTerms(text, opts.terms);
      if (hits.length === 0) return NOT_TRIGGERED;
      const reasons = [...new Set(hits.map((h) => `matched denied term "${h.label}"`))];
      return { triggered: true, reasons, rewrite: replaceHits(text, hits, replacement) };
    },
  };
}
