/**
 * What an injection rule is, and how its pattern source is compiled: `⟨`/`⟩` word edges that work in any
 * script, `~N` filler words. The rules themselves are in rules-english.ts and rules-multilingual.ts.
 */

export type RuleFamily =
  | 'override'
  | 'persona'
  | 'unrestricted'
  | 'mode'
  | 'extraction'
  | 'indirect'
  | 'role-tag'
  | 'hijack'
  | 'authority'
  | 'secrets'
  | 'harmful'
  | 'mention';

export const RULE_FAMILIES: readonly RuleFamily[] = [
  'override',
  'persona',
  'unrestricted',
  'mode',
  'extraction',
  'indirect',
  'role-tag',
  'hijack',
  'authority',
  'secrets',
  'harmful',
  'mention',
];

export interface Rule {
  readonly id: string;
  readonly family: RuleFamily;
  readonly pattern: RegExp;
  /**
   * Every alternative of the pattern starts at a word edge. The edge is checked after a match instead of
   * inside the regex: a leading look-behind stops V8 from skipping ahead and costs ~5x.
   */
  readonly leftEdge: boolean;
}

export interface RuleHit {
  readonly id: string;
  readonly family: RuleFamily;
  readonly start: number;
  readonly end: number;
}

const EDGE_BEFORE = '(?<![\\p{L}\\p{N}])';
const EDGE_AFTER = '(?![\\p{L}\\p{N}])';

/** The top-level alternatives of a regex source (split on `|` outside groups and classes). */
function alternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/**
 * `⟨` and `⟩` mark word edges in any script (JS `\b` only knows ASCII); `~N` allows up to N filler words.
 * When every alternative opens with `⟨`, that edge is dropped from the regex and checked by matchRules.
 */
function compile(source: string): { pattern: RegExp; leftEdge: boolean } {
  const alts = alternatives(source);
  const leftEdge = alts.every((a) => a.startsWith('⟨'));
  const body = leftEdge ? alts.map((a) => a.slice(1)).join('|') : source;
  const expanded = body
    .replaceAll('⟨', EDGE_BEFORE)
    .replaceAll('⟩', EDGE_AFTER)
    .replace(/~(\d)/g, (_m, n: string) => `(?:[^\\s.!?;]+\\s+){0,${n}}`);
  return { pattern: new RegExp(expanded, 'gu'), leftEdge };
}

export const rule = (family: RuleFamily, id: string, source: string): Rule => ({
  id,
  family,
  ...compile(source),
});
