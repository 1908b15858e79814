/**
 * Decoding of encoded segments (base64, hex, \x escapes, percent-encoding, rot13) that decode to readable
 * text. Attackers encode instructions so that keyword filters miss them; the decoded text is scored too.
 */
import { INJECTION_WORDS } from './lexicon.ts';

export type Encoding = 'base64' | 'hex' | 'percent' | 'rot13';

export interface DecodedSegment {
  encoding: Encoding;
  text: string;
}

const BASE64 = /[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9_-]{16,}={0,2}/g;
const HEX_RUN = /(?:(?:0x|\\x)?[0-9a-f]{2}[\s:,]?){8,}/gi;
const PERCENT_RUN = /[^%\s]{0,12}(?:%[0-9a-f]{2}[^%\s]{0,12}){3,}/gi;
const MAX_SEGMENTS = 8;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** C0/C1 controls other than tab and line breaks, or U+FFFD: the bytes were not text. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 127 && c <= 159) || c === 0xfffd) return true;
  }
  return false;
}

/** Readable: valid UTF-8, no control characters, mostly letters and spaces, and at least two words. */
function readable(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  if (text.length < 6 || hasControlCharacters(text)) return undefined;
  const letters = text.match(/[\p{L}\s]/gu)?.length ?? 0;
  if (letters / text.length < 0.7 || !/\p{L}{2,}[\s,.:;!?-]+\p{L}{2,}/u.test(text)) return undefined;
  return text;
}

function fromBase64(run: string): string | undefined {
  const std = run.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (std.length % 4 === 1) return undefined;
  return readable(Buffer.from(std, 'base64'));
}

function fromHex(run: string): string | undefined {
  const digits = run.replace(/0x|\\x|[\s:,]/gi, '');
  if (digits.length % 2 !== 0) return undefined;
  return readable(Buffer.from(digits, 'hex'));
}

function fromPercent(run: string): string | undefined {
  try {
    const text = decodeURIComponent(run);
    return text === run ? undefined : readable(Buffer.from(text, 'utf8'));
  } catch {
    return undefined;
  }
}

export function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** The injection words as they look rot13-encoded ("ignore" → "vtaber"). */
const ROT13_INJECTION_WORDS: ReadonlySet<string> = new Set([...INJECTION_WORDS].map(rot13));

/**
 * A rot13 reading counts when at least three words that are not injection vocabulary as written become
 * injection vocabulary through rot13 ("Vtaber lbhe ehyrf" → "Ignore your rules"). Ordinary English read
 * through rot13 turns into gibberish, so it gains nothing.
 */
function rot13Reading(text: string): string | undefined {
  let gained = 0;
  for (const m of text.toLowerCase().matchAll(/[a-z]+/g)) {
    if (ROT13_INJECTION_WORDS.has(m[0]) && !INJECTION_WORDS.has(m[0])) gained += 1;
    if (gained >= 3) return rot13(text);
  }
  return undefined;
}

/** Every encoded segment of `text` that decodes to readable text, at most eight. */
export function decodeSegments(text: string): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  const push = (encoding: Encoding, decoded: string | undefined) => {
    if (decoded !== undefined && out.length < MAX_SEGMENTS) out.push({ encoding, text: decoded });
  };
  for (const m of text.matchAll(HEX_RUN)) push('hex', fromHex(m[0].trim()));
  for (const m of text.matchAll(BASE64)) {
    if (/^[0-9a-f]+$/i.test(m[0])) continue; // a hex run (hash, id): handled above, not base64
    push('base64', fromBase64(m[0]));
  }
  if (text.includes('%')) for (const m of text.matchAll(PERCENT_RUN)) push('percent', fromPercent(m[0]));
  push('rot13', rot13Reading(text));
  return out;
}
