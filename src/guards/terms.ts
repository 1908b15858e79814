/**
 * Case-insensitive, word-boundary-aware term matching for the denylist and topics guards. Matching runs
 * on a folded copy of the text (invisible characters dropped, NFKC, look-alike letters folded when the
 * text mixes scripts) so "раssword" or "pass\u200bword" still match "password"; hits are reported as
 * offsets into the original text so it can be rewritten.
 */
import { HOMOGLYPHS } from './injection/unicode-fold.ts';

/** A configured term: a word or phrase (`*` at the end matches any ending), or a regular expression. */
export type TermSpec =
  | string
  | {
      pattern: string;
      regex?: boolean | undefined;
      label?: string | undefined;
      wholeWord?: boolean | undefined;
    };

export interface CompiledTerm {
  /** How reasons name the term: the configured label, else the term itself (a regex is named by its label or index). */
  readonly label: string;
  readonly re: RegExp;
}

export interface TermHit {
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

export class TermError extends Error {
  override readonly name = 'TermError';
}

const EDGE_BEFORE = '(?<![\\p{L}\\p{N}_])';
const EDGE_AFTER = '(?![\\p{L}\\p{N}_])';
/** Scripts written without spaces: word edges mean nothing there. */
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function phraseSource(term: string): string {
  const prefix = term.endsWith('*');
  const body = (prefix ? term.slice(0, -1) : term).trim();
  if (body.length === 0) throw new TermError('a term must have at least one character besides "*"');
  const words = body.split(/\s+/).map(escapeRegex).join('\\s+');
  const unspaced = UNSPACED_SCRIPT.test(body);
  const before = !unspaced && WORD_CHAR.test(body[0]!) ? EDGE_BEFORE : '';
  const after = prefix ? '[\\p{L}\\p{N}_]*' : !unspaced && WORD_CHAR.test(body.at(-1)!) ? EDGE_AFTER : '';
  return `${before}${words}${after}`;
}

/** Compile one term. Throws TermError naming the problem (bad regex, regex matching nothing at all). */
export function compileTerm(spec: TermSpec, index: number): CompiledTerm {
  if (typeof spec === 'string') return { label: spec, re: new RegExp(phraseSource(spec), 'giu') };
  if (!spec.regex)
    return { label: spec.label ?? spec.pattern, re: new RegExp(phraseSource(spec.pattern), 'giu') };
  let re: RegExp;
  try {
    const body = spec.wholeWord === false ? spec.pattern : `${EDGE_BEFORE}(?:${spec.pattern})${EDGE_AFTER}`;
    re = new RegExp(body, 'giu');
  } catch (err) {
    throw new TermError(`invalid regular expression: ${(err as Error).message}`);
  }
  if (new RegExp(spec.pattern, 'iu').test(''))
    throw new TermError('the regular expression matches empty text');
  return { label: spec.label ?? `pattern #${index + 1}`, re };
}

interface Folded {
  readonly text: string;
  /** For each UTF-16 unit of `text`, the [start, end) of the original code point it came from. */
  readonly start: Int32Array;
  readonly end: Int32Array;
}

const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const LATIN = /[a-z]/i;
const CONFUSABLE_WORD = /[\p{L}\p{M}]+/gu;

function mixesScripts(text: string): boolean {
  for (const m of text.matchAll(CONFUSABLE_WORD)) {
    const w = m[0];
    if (LATIN.test(w) && [...w].some((c) => HOMOGLYPHS[c] !== undefined)) return true;
  }
  return false;
}

/** Fold `text` code point by code point, remembering where each folded unit came from. */
export function foldWithOffsets(text: string): Folded {
  const fold = mixesScripts(text);
  let out = '';
  const start: number[] = [];
  const end: number[] = [];
  let i = 0;
  for (const cp of text) {
    const next = i + cp.length;
    if (!INVISIBLE.test(cp)) {
      const normal = cp.normalize('NFKC');
      const folded = fold ? [...normal].map((c) => HOMOGLYPHS[c] ?? c).join('') : normal;
      out += folded;
      for (let k = 0; k < folded.length; k++) {
        start.push(i);
        end.push(next);
      }
    }
    i = next;
  }
  return { text: out, start: Int32Array.from(start), end: Int32Array.from(end) };
}

/** Every hit of `terms` in `text`, as offsets into the original text, in text order. */
export function findTerms(text: string, terms: readonly CompiledTerm[]): TermHit[] {
  if (terms.length === 0 || text.length === 0) return [];
  const folded = foldWithOffsets(text);
  const hits: TermHit[] = [];
  for (const term of terms) {
    term.re.lastIndex = 0;
    for (const m of folded.text.matchAll(term.re)) {
      if (m[0].length === 0) continue;
      hits.push({
        label: term.label,
        start: folded.start[m.index]!,
        end: folded.end[m.index + m[0].length - 1]!,
      });
    }
  }
  return hits.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** `text` with every hit replaced by `replacement` (overlapping hits merged). */
export function replaceHits(text: string, hits: readonly TermHit[], replacement: string): string {
  let out = '';
  let at = 0;
  for (const h of hits) {
    if (h.end <= at) continue;
    out += text.slice(at, Math.max(at, h.start)) + replacement;
    at = h.end;
  }
  return out + text.slice(at);
}
