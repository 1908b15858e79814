/**
 * Unicode folding for injection detection: zero-width removal, NFKC, and folding of Cyrillic/Greek
 * look-alike letters onto Latin. Each step reports whether it changed anything, because hiding words
 * this way is itself a signal.
 */

/** Invisible characters used to break words apart: zero-width space/joiners, bidi controls, BOM, soft hyphen. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const ANY_INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const INVISIBLE_INSIDE_WORD =
  /[\p{L}\p{N}][\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+[\p{L}\p{N}]/u;

/** Remove invisible characters; `hidden` is true when one sat between two letters (an emoji ZWJ does not count). */
export function stripInvisible(text: string): { text: string; hidden: boolean } {
  if (!ANY_INVISIBLE.test(text)) return { text, hidden: false };
  const hidden = INVISIBLE_INSIDE_WORD.test(text);
  return { text: text.replace(INVISIBLE, ''), hidden };
}

/** Cyrillic, Greek and a few other letters that render like a Latin letter. */
export const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  г: 'r',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  п: 'n',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ь: 'b',
  ѕ: 's',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ԁ: 'd',
  һ: 'h',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  ѵ: 'v',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  У: 'Y',
  Х: 'X',
  Ѕ: 'S',
  І: 'I',
  Ј: 'J',
  Ԁ: 'D',
  Ԛ: 'Q',
  Ԝ: 'W',
  // Greek
  α: 'a',
  β: 'b',
  γ: 'y',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  μ: 'u',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ϲ: 'c',
  ς: 's',
  ϳ: 'j',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
  // Latin-looking letters from other blocks
  ı: 'i',
  ɑ: 'a',
  ɡ: 'g',
  ո: 'n',
  օ: 'o',
  ս: 'u',
  ᴀ: 'a',
  ʀ: 'r',
};

const LATIN = /[a-z]/i;
const CONFUSABLE = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'u');
const CONFUSABLE_ALL = new RegExp(CONFUSABLE.source, 'gu');
const WORD = /[\p{L}\p{M}]+/gu;

/**
 * Fold look-alike letters onto Latin, but only in text that mixes scripts inside a word ("іgnоrе"):
 * genuine Russian or Greek text has no such words and is left intact.
 */
export function foldHomoglyphs(text: string): { text: string; mixed: boolean } {
  if (!CONFUSABLE.test(text)) return { text, mixed: false };
  let mixed = false;
  for (const m of text.matchAll(WORD)) {
    const word = m[0];
    if (LATIN.test(word) && CONFUSABLE.test(word)) {
      mixed = true;
      break;
    }
  }
  if (!mixed) return { text, mixed };
  return { text: text.replace(CONFUSABLE_ALL, (c) => HOMOGLYPHS[c] ?? c), mixed };
}

/** A run of three full-width or mathematical-alphanumeric Latin letters: words dressed up to dodge filters. */
const STYLED_LETTERS = /(?:[\uff21-\uff3a\uff41-\uff5a]|[\u{1d400}-\u{1d6a5}]){3}/u;

/**
 * NFKC folds full-width letters, mathematical alphanumerics, ligatures and compatibility forms onto plain
 * ones. `styled` is true when the input spelled words in such letters.
 */
export function nfkc(text: string): { text: string; styled: boolean } {
  return { text: text.normalize('NFKC'), styled: STYLED_LETTERS.test(text) };
}
