/**
 * The injection guard: runs detectInjection on user messages (source 'user') and tool results (source
 * 'tool'); any other role it is told to read is treated as a retrieved document. 'redact' replaces the
 * flagged text with a marker so the model never reads it.
 */
import type { Role } from '../core/types.ts';
import { detectInjection, INJECTION_THRESHOLD } from './injection/detect.ts';
import type { InjectionSource } from './injection/evidence.ts';
import type { Guard, GuardAction, GuardCheck, GuardContext } from './types.ts';

export interface InjectionGuardOptions {
  name?: string;
  action: GuardAction;
  threshold?: number;
  /** Default ['user', 'tool']. */
  roles?: readonly Role[];
}

export const INJECTION_REDACTED = '[removed by Keel: suspected prompt injection]';

function sourceOf(role: Role): InjectionSource {
  if (role === 'user') return 'user';
  if (role === 'tool') return 'tool';
  return 'document';
}

export function injectionGuard(opts: InjectionGuardOptions): Guard {
  const threshold = opts.threshold ?? INJECTION_THRESHOLD;
  return {
    name: opts.name ?? 'injection',
    stage: 'input',
    action: opts.action,
    roles: opts.roles ?? ['user', 'tool'],
    check(text: string, ctx: GuardContext): GuardCheck {
      const verdict = detectInjection(text, { source: sourceOf(ctx.role), threshold });
      if (!verdict.flagged) return { triggered: false, reasons: [] };
      const reasons = [`score ${verdict.score.toFixed(2)} ≥ ${threshold}`, ...verdict.reasons];
      return { triggered: true, reasons, rewrite: INJECTION_REDACTED };
    },
  };
}
