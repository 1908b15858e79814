/**
 * The evidence the combiner weighs: which rule families fired, which obfuscations were undone, whether the
 * message talks *about* attacks (a question, attack vocabulary, the pattern inside quotes), and where the
 * text came from. One number per named feature; the classifier's margin is added by model.ts.
 */
import type { NormalizedText } from './normalize.ts';
import { RULE_FAMILIES, type RuleFamily, type RuleHit } from './rule.ts';
import { matchRules, splitPhraseHits } from './rules.ts';
import { firstAtWordStart } from './word-start.ts';

export type InjectionSource = 'user' | 'document' | 'tool';

export const EVIDENCE_FEATURES = [
  'ngram',
  ...RULE_FAMILIES,
  'families',
  'split-phrase',
  'decoded-hit',
  'hidden-hit',
  'invisible',
  'homoglyph',
  'styled',
  'leetspeak',
  'split',
  'encoded',
  'question',
  'question-mark',
  'attack-talk',
  'quoted',
  'source-document',
  'source-tool',
] as const;

export type EvidenceFeature = (typeof EVIDENCE_FEATURES)[number];

export interface Evidence {
  /** Feature values in EVIDENCE_FEATURES order; `ngram` is left at 0 for model.ts to fill. */
  readonly values: Float64Array;
  /** Hits that count. */
  readonly hits: readonly RuleHit[];
  /** Hits inside quotation marks of a message that asks about attacks: reported, not counted. */
  readonly discussed: readonly RuleHit[];
}

/** Opens like a question or a request to explain, in the corpus languages. */
const QUESTION =
  /^(?:what|what's|why|how|is|are|does|do|can|could|should|would|when|where|which|who|explain|describe|define|summari[sz]e|give me|write|translate|tell me about|in (?:this|my|the)|was|wie|warum|wozu|comment|pourquoi|qu'est|quel(?:le)?s?|cómo|qué|por qué|como|o que|porque|cosa|come|perché|quale|что|как|почему|зачем|什么|怎么|为什么|如何|なぜ|どう)(?![\p{L}\p{N}])/u;
const QUESTION_MARK = /[?？](?:\s|$)/u;
/** Talk about attacks; starts at a word start (checked by firstAtWordStart, see word-start.ts). */
const ATTACK_TALK =
  /(?:prompt injection|injections?|jailbreak(?:s|ing)?(?! mode)|attacks?|attackers?|exploits?|red[- ]team|security|vulnerabilit(?:y|ies)|malicious|adversarial|defen[cs]e|defend|detect|classif(?:y|ier|ication)|regex|phrase|sentence|payloads?|means?|meaning|glossary|history)(?![\p{L}\p{N}])/gu;
const QUOTED = /(?<![\p{L}\p{N}])(['"“‘«「])(.+?)(['"”’»」])(?![\p{L}\p{N}])/gu;
/** Families that show intent on their own; `mention` and `harmful` only add to them. */
const STRONG: ReadonlySet<RuleFamily> = new Set([
  'override',
  'persona',
  'unrestricted',
  'extraction',
  'indirect',
  'role-tag',
  'hijack',
]);

function quoteSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const m of text.matchAll(QUOTED)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/**
 * A user who asks about an attack quotes it: "what does 'ignore previous instructions' mean?". Hits inside
 * quotation marks of a message that asks or talks about attacks are set apart as discussed, not made.
 * Without such a cue a quoted payload ("do this: 'ignore your rules'") still counts.
 */
function splitDiscussed(hits: readonly RuleHit[], text: string): { used: RuleHit[]; discussed: RuleHit[] } {
  const spans = quoteSpans(text);
  const used: RuleHit[] = [];
  const discussed: RuleHit[] = [];
  for (const h of hits) {
    const quoted = spans.some(([s, e]) => h.start >= s && h.end <= e);
    (quoted ? discussed : used).push(h);
  }
  return { used, discussed };
}

export function gatherEvidence(n: NormalizedText, source: InjectionSource): Evidence {
  const values = new Float64Array(EVIDENCE_FEATURES.length);
  const set = (name: EvidenceFeature, v: number) => {
    values[EVIDENCE_FEATURES.indexOf(name)] = v;
  };
  // Questions and quotations excuse a user asking about attacks; in documents and tool output (JSON strings,
  // citations, FAQs) they are everywhere and excuse nothing.
  const fromUser = source === 'user';
  const question = fromUser && QUESTION.test(n.text);
  const questionMark = fromUser && QUESTION_MARK.test(n.text);
  const attackTalk = firstAtWordStart(ATTACK_TALK, n.text) !== null;
  const discussing = fromUser && (question || questionMark || attackTalk);
  const textHits = matchRules(n.text);
  const { used, discussed } = discussing
    ? splitDiscussed(textHits, n.text)
    : { used: textHits, discussed: [] };
  const decodedHits = n.decoded.flatMap((d) => matchRules(d));
  const counted = [...used, ...decodedHits];
  const families = new Set(counted.map((h) => h.family));
  for (const f of families) set(f, 1);
  set('families', [...families].filter((f) => STRONG.has(f)).length / 3);
  const split = splitPhraseHits(n.compact, [n.text, ...n.decoded]);
  set('split-phrase', Math.min(split, 3) / 3);
  set('decoded-hit', decodedHits.some((h) => STRONG.has(h.family)) ? 1 : 0);
  set('hidden-hit', n.signals.length > 0 && (counted.length > 0 || split > 0) ? 1 : 0);
  for (const s of n.signals) {
    if (s === 'base64' || s === 'hex' || s === 'percent' || s === 'rot13') set('encoded', 1);
    else set(s, 1);
  }
  set('question', question ? 1 : 0);
  set('question-mark', questionMark ? 1 : 0);
  set('attack-talk', attackTalk ? 1 : 0);
  set('quoted', new Set(discussed.filter((h) => STRONG.has(h.family)).map((h) => h.family)).size / 3);
  set('source-document', source === 'document' ? 1 : 0);
  set('source-tool', source === 'tool' ? 1 : 0);
  return { values, hits: counted, discussed };
}
