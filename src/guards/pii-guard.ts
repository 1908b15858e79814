/**
 * The PII guard: finds entities with the telemetry redactor's detector (src/telemetry/redaction.ts) and,
 * when its action is 'redact', replaces each with a typed placeholder (`<EMAIL_1>`) recorded in the run's
 * PlaceholderMap so the answer can be restored. Reasons count entity types; values never leave the map.
 */
import type { Role } from '../core/types.ts';
import { detect, type EntityType } from '../telemetry/redaction.ts';
import type { Guard, GuardAction, GuardCheck, GuardContext, GuardStage } from './types.ts';
import { NOT_TRIGGERED } from './types.ts';

export interface PiiGuardOptions {
  name?: string;
  stage: GuardStage;
  action: GuardAction;
  /** Entity types to act on; default all the redactor knows. */
  entities?: readonly EntityType[];
  roles?: readonly Role[];
}

const ALL_ROLES: readonly Role[] = ['system', 'developer', 'user', 'assistant', 'tool'];

export function piiGuard(opts: PiiGuardOptions): Guard {
  const wanted = opts.entities ? new Set(opts.entities) : undefined;
  return {
    name: opts.name ?? 'pii',
    stage: opts.stage,
    action: opts.action,
    roles: opts.roles ?? (opts.stage === 'input' ? ALL_ROLES : ['assistant']),
    check(text: string, ctx: GuardContext): GuardCheck {
      const spans = detect(text).filter((s) => wanted === undefined || wanted.has(s.type));
      if (spans.length === 0) return NOT_TRIGGERED;
      const counts = new Map<EntityType, number>();
      for (const s of spans) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
      const reasons = [...counts].map(([type, n]) => `${type} x${n}`);
      if (opts.action !== 'redact') return { triggered: true, reasons };
      // Input PII is the user's own and comes back in the answer; PII the model produced stays redacted.
      const restorable = ctx.stage === 'input';
      let rewrite = '';
      let at = 0;
      for (const s of spans) {
        const value = text.slice(s.start, s.end);
        rewrite += text.slice(at, s.start) + ctx.placeholders.placeholderFor(s.type, value, restorable);
        at = s.end;
      }
      return { triggered: true, reasons, rewrite: rewrite + text.slice(at) };
    },
  };
}
