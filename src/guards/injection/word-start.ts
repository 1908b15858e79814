/**
 * Word-start matching without a look-behind. A regex that opens with `(?<![\p{L}\p{N}])` makes V8 try
 * the look-behind at every position (~5x slower); matching freely and rejecting hits inside a word is
 * equivalent and fast.
 */

const LETTER_OR_DIGIT_AT_END = /[\p{L}\p{N}]$/u;

/** True when `index` is not preceded by a letter or digit (astral letters included). */
export function atWordStart(text: string, index: number): boolean {
  return index === 0 || !LETTER_OR_DIGIT_AT_END.test(text.slice(Math.max(0, index - 2), index));
}

/** The first match of global regex `re` in `text` that starts a word. */
export function firstAtWordStart(re: RegExp, text: string): RegExpExecArray | null {
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null || atWordStart(text, m.index)) return m;
    re.lastIndex = m.index + 1;
  }
}
