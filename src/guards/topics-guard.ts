/**
 * The topics guard, keyword-based and deliberately simple. A message that mentions a denied topic
 * triggers it. With allowed topics configured, a conversation triggers it until some message of it has
 * mentioned one of them ("thanks!" after an on-topic question is fine; an opening question about
 * anything else is not).
 */
import type { Role } from '../core/types.ts';
import { textSegments } from './messages.ts';
import { type CompiledTerm, findTerms } from './terms.ts';
import type { Guard, GuardAction, GuardCheck, GuardContext, GuardStage } from './types.ts';
import { NOT_TRIGGERED } from './types.ts';

export interface TopicsGuardOptions {
  name?: string;
  stage: GuardStage;
  action: GuardAction;
  /** Topic name → its keywords. */
  allowed?: ReadonlyMap<string, readonly CompiledTerm[]>;
  denied?: ReadonlyMap<string, readonly CompiledTerm[]>;
  roles?: readonly Role[];
}

function topicsIn(text: string, topics: ReadonlyMap<string, readonly CompiledTerm[]>): string[] {
  return [...topics].filter(([, terms]) => findTerms(text, terms).length > 0).map(([name]) => name);
}

export function topicsGuard(opts: TopicsGuardOptions): Guard {
  const allowed = opts.allowed ?? new Map<string, readonly CompiledTerm[]>();
  const denied = opts.denied ?? new Map<string, readonly CompiledTerm[]>();
  const roles = opts.roles ?? (opts.stage === 'input' ? ['user'] : ['assistant']);
  const earlierOnTopic = (ctx: GuardContext) =>
    ctx.messages
      .slice(0, ctx.messageIndex)
      .filter((m) => roles.includes(m.role))
      .some((m) => textSegments(m).some((s) => topicsIn(s.text, allowed).length > 0));
  return {
    name: opts.name ?? 'topics',
    stage: opts.stage,
    action: opts.action,
    roles,
    check(text: string, ctx: GuardContext): GuardCheck {
      const deniedHere = topicsIn(text, denied);
      if (deniedHere.length > 0) {
        return { triggered: true, reasons: deniedHere.map((t) => `denied topic "${t}"`) };
      }
      if (allowed.size === 0 || topicsIn(text, allowed).length > 0 || earlierOnTopic(ctx))
        return NOT_TRIGGERED;
      return { triggered: true, reasons: [`off topic: none of ${[...allowed.keys()].join(', ')}`] };
    },
  };
}
