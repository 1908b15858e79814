/**
 * Leetspeak folding: "1gn0r3 4ll pr3v10u5" → "ignore all previous". Only tokens that mix letters with
 * digits or symbols are touched, so numbers, prices and dates stay as they are.
 */
import { INJECTION_WORDS } from './lexicon.ts';

const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
};

/** A token: letters, digits and leet symbols, ending on a letter or digit (so a trailing "!" is punctuation). */
const TOKEN = /[\p{L}\p{N}@$!|]*[\p{L}\p{N}]/gu;
const HAS_LETTER = /\p{L}/u;
const HAS_LEET = /[0134579@$!|8]/;
/** Longer tokens are ids, hashes and base64, not words: left alone. */
const MAX_WORD = 15;
/** Any token mixing letters with digits or symbols has such a pair; most text has none and is skipped. */
const LETTER_NEXT_TO_SYMBOL = /\p{L}[0-9@$!|]|[0-9@$!|]\p{L}/u;
/** "@bot", "@alice": a mention, not leetspeak (unless it reads as an injection word: "@ll"). */
const MENTION = /^@\p{L}+$/u;

function fold(token: string, one: 'i' | 'l'): string {
  let out = '';
  for (const ch of token) out += ch === '1' ? one : (LEET[ch] ?? ch);
  return out;
}

/** "1" reads as "i" or "l": pick the reading that is an injection word, else "i". */
function foldToken(token: string): string {
  const asI = fold(token, 'i');
  if (!token.includes('1') || INJECTION_WORDS.has(asI.toLowerCase())) return asI;
  const asL = fold(token, 'l');
  return INJECTION_WORDS.has(asL.toLowerCase()) ? asL : asI;
}

/** Fold leetspeak tokens; `folded` counts the tokens that changed. */
export function foldLeetspeak(text: string): { text: string; folded: number } {
  if (!LETTER_NEXT_TO_SYMBOL.test(text)) return { text, folded: 0 };
  let folded = 0;
  const out = text.replace(TOKEN, (token) => {
    if (token.length > MAX_WORD || !HAS_LEET.test(token) || !HAS_LETTER.test(token.replace(/[@$!|]/g, ''))) {
      return token;
    }
    if (MENTION.test(token) && !INJECTION_WORDS.has(foldToken(token).toLowerCase())) return token;
    folded += 1;
    return foldToken(token);
  });
  return { text: out, folded };
}
