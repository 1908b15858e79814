/**
 * A label's steps, replayed from its history: a promotion pushes a version, a rollback pops one. The
 * top is where the label points; a rollback goes to the step below it. So after promoting v1, v2, v3,
 * two rollbacks reach v1, and promoting v4 then rolling back returns to the step under v4.
 * Both stores share this, so their rollbacks agree.
 */
import { PromptNotFoundError, PromptRequestError } from './errors.ts';
import type { LabelEvent } from './store.ts';

/** `events`: one label's history, oldest first. */
export function labelSteps(events: readonly Pick<LabelEvent, 'action' | 'version'>[]): string[] {
  const steps: string[] = [];
  for (const e of events) {
    if (e.action === 'promote') steps.push(e.version);
    else steps.pop();
  }
  return steps;
}

/** The version a rollback of this label moves to; throws when there is none. */
export function rollbackTarget(
  name: string,
  label: string,
  events: readonly Pick<LabelEvent, 'action' | 'version'>[],
): { from: string; to: string } {
  const steps = labelSteps(events);
  const from = steps.at(-1);
  const to = steps.at(-2);
  if (from === undefined) {
    throw new PromptNotFoundError(`prompt "${name}" has no label "${label}"`, 'label');
  }
  if (to === undefined) {
    throw new PromptRequestError(
      `label "${label}" of prompt "${name}" has no earlier step to roll back to (it points to ${from}, its first)`,
      'label',
    );
  }
  return { from, to };
}
