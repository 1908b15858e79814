/**
 * The canonical form injection rules and the classifier read: invisible characters removed, NFKC,
 * look-alike letters folded onto Latin, spelled-out words joined, leetspeak folded, lower-case, one space
 * between words; plus the readable text of any encoded segment, and which obfuscations were undone.
 */
import { type DecodedSegment, decodeSegments, type Encoding } from './decode.ts';
import { foldLeetspeak } from './leetspeak.ts';
import { compact, joinSplitWords } from './split-words.ts';
import { foldHomoglyphs, nfkc, stripInvisible } from './unicode-fold.ts';

export type ObfuscationSignal = 'invisible' | 'homoglyph' | 'styled' | 'leetspeak' | 'split' | Encoding;

export interface NormalizedText {
  /** The canonical text as written (without decoded segments). */
  readonly text: string;
  /** The canonical text of each decoded segment. */
  readonly decoded: readonly string[];
  /** `text` and `decoded` as letters and digits only, to find words split by any separator. */
  readonly compact: string;
  readonly signals: readonly ObfuscationSignal[];
}

function canonical(text: string, signals: Set<ObfuscationSignal>): string {
  const homoglyphs = foldHomoglyphs(text);
  if (homoglyphs.mixed) signals.add('homoglyph');
  const split = joinSplitWords(homoglyphs.text);
  if (split.joined > 0) signals.add('split');
  const leet = foldLeetspeak(split.text);
  if (leet.folded > 0) signals.add('leetspeak');
  return leet.text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Normalise `input` for injection scoring. Pure and allocation-light: runs on every scanned message. */
export function normalizeForDetection(input: string): NormalizedText {
  const signals = new Set<ObfuscationSignal>();
  const visible = stripInvisible(input);
  if (visible.hidden) signals.add('invisible');
  const folded = nfkc(visible.text);
  if (folded.styled) signals.add('styled');
  const segments: DecodedSegment[] = decodeSegments(folded.text);
  for (const s of segments) signals.add(s.encoding);
  const text = canonical(folded.text, signals);
  const decoded = segments.map((s) => canonical(s.text.normalize('NFKC'), new Set()));
  return { text, decoded, compact: compact([text, ...decoded].join(' ')), signals: [...signals] };
}
