/**
 * Joining of words spelled out letter by letter ("i g n o r e", "I-g-n-o-r-e", "s_y_s_t_e_m") so that
 * phrase rules and n-grams see the word.
 */

/**
 * Three or more single letters separated by one and the same character (space, dot, dash, underscore,
 * star, pipe): "s_y_s_t_e_m p_r_o_m_p_t" is two words, not one.
 */
const SPELLED_OUT = /(?<![\p{L}\p{N}])\p{L}([ .\-_*|·/])\p{L}(?:\1\p{L})+(?![\p{L}\p{N}])/gu;

/** Join spelled-out words; `joined` counts the words rebuilt. */
export function joinSplitWords(text: string): { text: string; joined: number } {
  let joined = 0;
  const out = text.replace(SPELLED_OUT, (run: string, separator: string) => {
    joined += 1;
    return run.split(separator).join('');
  });
  return { text: out, joined };
}

/** Letters and digits only, lower-case: "ig.nore prev-ious" → "ignoreprevious". Catches splits of any shape. */
export function compact(text: string): string {
  const lower = text.toLowerCase();
  let out = '';
  let from = 0;
  // An ASCII fast path: most text is ASCII, and a regex with \p{…} over every character is slow.
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    const keep =
      c < 128 ? (c >= 97 && c <= 122) || (c >= 48 && c <= 57) : ALNUM.test(lower[i]!) || isSurrogate(c);
    if (!keep) {
      out += lower.slice(from, i);
      from = i + 1;
    }
  }
  return out + lower.slice(from);
}

const ALNUM = /[\p{L}\p{N}]/u;
/** Astral letters (CJK extension B, mathematical letters after NFKC are BMP) are rare: kept whole. */
const isSurrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;
