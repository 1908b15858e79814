/**
 * runGuards: applies the guards of one stage, in order, to every text segment of every message whose role
 * a guard reads. Each guard sees the text as rewritten by the guards before it. The first triggered guard
 * whose action is 'block' stops the run. Inputs are never mutated.
 */
import type { ChatMessage } from '../core/types.ts';
import { segmentPath, textSegments, withSegment } from './messages.ts';
import { PlaceholderMap } from './placeholders.ts';
import type { Guard, GuardAction, GuardStage } from './types.ts';

export interface GuardVerdict {
  guard: string;
  action: GuardAction;
  triggered: boolean;
  /** Each prefixed with where it was found (`messages[2]: EMAIL x1`). Never raw PII. */
  reasons: string[];
  /** Time the guard took over all messages, in milliseconds. */
  ms: number;
}

export interface GuardRunResult {
  /** The messages, rewritten by 'redact' guards (the same objects where nothing changed). */
  messages: ChatMessage[];
  /** When a string was passed in: its rewritten text. */
  text?: string;
  verdicts: GuardVerdict[];
  blocked?: { guard: string; reason: string };
  /** Placeholders given out in this run; `placeholders.mapping()` restores the answer. */
  placeholders: PlaceholderMap;
}

export interface RunGuardsOptions {
  /** Continue numbering (and know the values) of an earlier run: pass the input run's map to the output run. */
  placeholders?: PlaceholderMap;
}

/**
 * Run the `stage` guards over `input`: chat messages, or a bare text (read as a user message at the input
 * stage, an assistant message at the output stage).
 *
 * @example
 * const run = runGuards([piiGuard({ stage: 'input', action: 'redact' })], 'Mail me at ana@example.com', 'input');
 * run.text; // 'Mail me at <EMAIL_1>'
 * restorePlaceholders('Sent to <EMAIL_1>.', run.placeholders.mapping()); // 'Sent to ana@example.com.'
 */
export function runGuards(
  guards: readonly Guard[],
  input: readonly ChatMessage[] | string,
  stage: GuardStage,
  opts: RunGuardsOptions = {},
): GuardRunResult {
  const messages: ChatMessage[] =
    typeof input === 'string'
      ? [{ role: stage === 'input' ? 'user' : 'assistant', content: input }]
      : [...input];
  const placeholders = opts.placeholders ?? new PlaceholderMap();
  const verdicts: GuardVerdict[] = [];
  const finish = (blocked?: GuardRunResult['blocked']): GuardRunResult => {
    const result: GuardRunResult = { messages, verdicts, placeholders };
    if (typeof input === 'string') result.text = textSegments(messages[0]!)[0]?.text ?? '';
    if (blocked) result.blocked = blocked;
    return result;
  };

  for (const guard of guards) {
    if (guard.stage !== stage) continue;
    const started = performance.now();
    const reasons: string[] = [];
    let blockedBy: string | undefined;
    for (let i = 0; i < messages.length && blockedBy === undefined; i++) {
      const message = messages[i]!;
      if (!guard.roles.includes(message.role)) continue;
      for (const segment of textSegments(message)) {
        const check = guard.check(segment.text, {
          stage,
          role: message.role,
          messageIndex: i,
          messages,
          placeholders,
        });
        if (!check.triggered) continue;
        const where = segmentPath(i, segment.part);
        for (const reason of check.reasons) reasons.push(`${where}: ${reason}`);
        if (guard.action === 'block') {
          blockedBy = `${where}: ${check.reasons[0] ?? 'triggered'}`;
          break;
        }
        if (guard.action === 'redact' && check.rewrite !== undefined) {
          messages[i] = withSegment(messages[i]!, segment.part, check.rewrite);
        }
      }
    }
    verdicts.push({
      guard: guard.name,
      action: guard.action,
      triggered: reasons.length > 0,
      reasons,
      ms: performance.now() - started,
    });
    if (blockedBy !== undefined) return finish({ guard: guard.name, reason: blockedBy });
  }
  return finish();
}
