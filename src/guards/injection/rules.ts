/**
 * The injection rule set and how it is matched: every rule's first hit in the canonical text, and the
 * phrases that only appear once separators are dropped (words split to hide them).
 */
import type { Rule, RuleHit } from './rule.ts';
import { ENGLISH_RULES } from './rules-english.ts';
import { MULTILINGUAL_RULES } from './rules-multilingual.ts';
import { firstAtWordStart } from './word-start.ts';

export const RULES: readonly Rule[] = [...ENGLISH_RULES, ...MULTILINGUAL_RULES];

/** The first match of `r` in `text`, honouring a left edge checked outside the regex. */
function firstMatch(r: Rule, text: string): RegExpExecArray | null {
  if (r.leftEdge) return firstAtWordStart(r.pattern, text);
  r.pattern.lastIndex = 0;
  return r.pattern.exec(text);
}

/** Every rule hit in `text` (canonical form), in rule order. */
export function matchRules(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const r of RULES) {
    const m = firstMatch(r, text);
    if (m) hits.push({ id: r.id, family: r.family, start: m.index, end: m.index + m[0].length });
  }
  return hits;
}

/** Phrases looked for in the letters-only form: found there but not as words, they were split to hide. */
const SPLIT_PHRASES: readonly (readonly string[])[] = [
  ['ignore', 'previous', 'instructions'],
  ['ignore', 'all', 'previous'],
  ['ignore', 'prior', 'instructions'],
  ['ignore', 'your', 'rules'],
  ['ignore', 'your', 'instructions'],
  ['disregard', 'your'],
  ['disregard', 'previous'],
  ['forget', 'your', 'rules'],
  ['forget', 'your', 'instructions'],
  ['previous', 'instructions'],
  ['system', 'prompt'],
  ['hidden', 'prompt'],
  ['developer', 'mode'],
  ['your', 'guidelines'],
];
const SPLIT_CHECKS = SPLIT_PHRASES.map((words) => ({
  joined: words.join(''),
  spaced: new RegExp(words.join('[^\\p{L}\\p{N}]+'), 'u'),
}));

/** Phrases present only once separators are dropped ("ig.nore prev.ious instr.uctions"). */
export function splitPhraseHits(compactText: string, texts: readonly string[]): number {
  let hits = 0;
  for (const c of SPLIT_CHECKS) {
    if (compactText.includes(c.joined) && !texts.some((t) => c.spaced.test(t))) hits += 1;
  }
  return hits;
}
