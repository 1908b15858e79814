/**
 * Detectors for EMAIL, IBAN, CARD, NATIONAL_ID, IP and PHONE. Each regex only
 * proposes candidates; validators.ts decides. Every pattern starts behind a
 * look-behind boundary and uses only bounded or non-overlapping repetition, so
 * scanning is linear in the input length (see the 1 MB test).
 */
import type { EntityType, Span } from './types.ts';
import {
  cardGroupingValid,
  cardValid,
  ibanLength,
  ibanValid,
  ipv6Valid,
  itinValid,
  looksLikeDate,
  ninoValid,
  ssnValid,
} from './validators.ts';

/** Overlap priority: a lower number wins. Secrets use 0–2 (secrets.ts). */
const PRIORITY: Record<Exclude<EntityType, 'SECRET'>, number> = {
  EMAIL: 3,
  IBAN: 4,
  CARD: 5,
  NATIONAL_ID: 6,
  IP: 8,
  PHONE: 9,
};
const P_CONTEXT_ID = 7;

function push(
  out: Span[],
  type: Exclude<EntityType, 'SECRET'>,
  start: number,
  end: number,
  p?: number,
): void {
  out.push({ start, end, type, priority: p ?? PRIORITY[type] });
}

// ---------------------------------------------------------------- EMAIL
const EMAIL =
  /(?<![A-Za-z0-9._%+'-])[A-Za-z0-9][A-Za-z0-9._%+'-]{0,63}@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8})([A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g;
const FILE_EXTENSION_TLD = /^(?:png|jpe?g|gif|svg|webp|ico|bmp|tiff?|avif|heic)$/i;

function detectEmail(text: string, out: Span[]): void {
  if (!text.includes('@')) return;
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(text); m !== null; m = EMAIL.exec(text)) {
    const domain = m[1] ?? '';
    if (FILE_EXTENSION_TLD.test(m[2] ?? '') || /^\d+(?:\.\d+)?x\.$/i.test(domain)) continue; // icon@2x.png
    push(out, 'EMAIL', m.index, m.index + m[0].length);
  }
}

// ---------------------------------------------------------------- IBAN
const IBAN_COMPACT = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Za-z0-9])/gi;
const IBAN_SPACED = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?(?![A-Za-z0-9])/gi;

function detectIban(text: string, out: Span[]): void {
  IBAN_COMPACT.lastIndex = 0;
  for (let m = IBAN_COMPACT.exec(text); m !== null; m = IBAN_COMPACT.exec(text)) {
    if (ibanValid(m[0])) push(out, 'IBAN', m.index, m.index + m[0].length);
  }
  IBAN_SPACED.lastIndex = 0;
  for (let m = IBAN_SPACED.exec(text); m !== null; m = IBAN_SPACED.exec(text)) {
    // The spaced form may run into a following word; keep exactly the country's length.
    const want = ibanLength(m[0].slice(0, 2).toUpperCase());
    if (want === undefined) continue;
    let compact = '';
    let end = 0;
    for (; end < m[0].length && compact.length < want; end++) {
      const ch = m[0][end] ?? ' ';
      if (ch !== ' ') compact += ch;
    }
    if (compact.length === want && ibanValid(compact)) push(out, 'IBAN', m.index, m.index + end);
  }
}

// ---------------------------------------------------------------- CARD
const CARD = /(?<![\w-])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![\w]|[ -]\d)/g;

function detectCard(text: string, out: Span[]): void {
  CARD.lastIndex = 0;
  for (let m = CARD.exec(text); m !== null; m = CARD.exec(text)) {
    // A trailing group that is not part of the number ("… 1111 12/27") is dropped and retried.
    let raw = m[0];
    for (;;) {
      const digits = raw.replace(/[ -]/g, '');
      if (digits.length < 13) break;
      if (cardGroupingValid(raw) && cardValid(digits)) {
        push(out, 'CARD', m.index, m.index + raw.length);
        break;
      }
      const cut = Math.max(raw.lastIndexOf(' '), raw.lastIndexOf('-'));
      if (cut <= 0) break;
      raw = raw.slice(0, cut);
    }
  }
}

// ---------------------------------------------------------------- NATIONAL_ID
const SSN = /(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-]|\.\d)/g;
const NINO = /(?<![A-Za-z0-9])([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])/g;

/** Context words that make the next ID-like token a national identifier. */
const ID_CONTEXT_CI =
  /\b(?:ssns?|social[ -]security|social[ -]insurance|passports?|reisepass|pasaporte|passeport|national[ -]?(?:id|identity|identification|insurance)|identity[ -](?:card|number|no)|id[ -](?:card|number|no)|tax[ -]?(?:id|payer|code|number|no|identification)|taxpayer|steuer[ -]?id|steuernummer|codice fiscale|fiscal code|personnummer|aadhaar|citizen service number|nino|itin|driver'?s licen[cs]e)\b/gi;
const ID_CONTEXT_CS = /\b(?:SSN|SIN|TIN|EIN|ITIN|DNI|NIE|NIF|BSN|CPF|CURP|NIR|PPS|NI|NINO)\b/g;
const SSN_CONTEXT = /^(?:ssns?|social[ -]security)$/i;
const TAX_CONTEXT = /tax|tin$|itin|ein/i;
const ID_CANDIDATE =
  /(?<![A-Za-z0-9])[A-Za-z]{0,6}\d[A-Za-z0-9]{0,19}(?:[ -][A-Za-z]{0,2}\d[A-Za-z0-9]{0,19}){0,6}(?![A-Za-z0-9])/g;
const SSN_SHAPE = /^(\d{3})[ -]?(\d{2})[ -]?(\d{4})$/;
const CONTEXT_WINDOW = 48;

function detectSsnAndNino(text: string, out: Span[]): void {
  SSN.lastIndex = 0;
  for (let m = SSN.exec(text); m !== null; m = SSN.exec(text)) {
    if (ssnValid(m[1] ?? '', m[2] ?? '', m[3] ?? ''))
      push(out, 'NATIONAL_ID', m.index, m.index + m[0].length);
  }
  NINO.lastIndex = 0;
  for (let m = NINO.exec(text); m !== null; m = NINO.exec(text)) {
    if (ninoValid(m[0].replace(/ /g, ''))) push(out, 'NATIONAL_ID', m.index, m.index + m[0].length);
  }
}

function contextualIdAccepted(candidate: string, context: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 6 || candidate.length > 32 || /^0+$/.test(digits) || looksLikeDate(candidate))
    return false;
  const ssn = SSN_SHAPE.exec(candidate);
  if (!ssn) return true;
  const [a, g, s] = [ssn[1] ?? '', ssn[2] ?? '', ssn[3] ?? ''];
  if (SSN_CONTEXT.test(context)) return ssnValid(a, g, s);
  if (TAX_CONTEXT.test(context)) return ssnValid(a, g, s) || itinValid(a, g, s);
  return true;
}

function detectContextualIds(text: string, out: Span[]): void {
  for (const ctx of [ID_CONTEXT_CI, ID_CONTEXT_CS]) {
    ctx.lastIndex = 0;
    for (let c = ctx.exec(text); c !== null; c = ctx.exec(text)) {
      const from = c.index + c[0].length;
      let window = text.slice(from, from + CONTEXT_WINDOW);
      const nl = window.indexOf('\n');
      if (nl >= 0) window = window.slice(0, nl);
      ID_CANDIDATE.lastIndex = 0;
      for (let m = ID_CANDIDATE.exec(window); m !== null; m = ID_CANDIDATE.exec(window)) {
        if (m[0].replace(/\D/g, '').length < 6) continue;
        if (contextualIdAccepted(m[0], c[0])) {
          push(out, 'NATIONAL_ID', from + m.index, from + m.index + m[0].length, P_CONTEXT_ID);
        }
        break; // the context word applies to the first ID-like token only
      }
    }
  }
}

// ---------------------------------------------------------------- IP
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d|-[A-Za-z0-9])`, 'g');
const IPV6 = new RegExp(
  `(?<![\\w:.])[0-9A-Fa-f:]{2,39}(?:(?<=:)${OCTET}(?:\\.${OCTET}){3})?(?![\\w:]|\\.\\d)`,
  'g',
);
/** Text right before a dotted quad that marks it as a version / section number, not an address. */
const VERSION_BEFORE =
  /(?:\bv|version|\bver|\bbuild|\brelease|\brel|\bsection|\bsec|§|\bchapter|\bclause|\bstep|\brule|\bfig(?:ure)?|\btable|\boid|\bkernel|\bfirmware|\bfw|[A-Za-z]\/)[\s:=#("'.]{0,3}$/i;

function detectIp(text: string, out: Span[]): void {
  if (text.includes('.')) {
    IPV4.lastIndex = 0;
    for (let m = IPV4.exec(text); m !== null; m = IPV4.exec(text)) {
      const before = text.slice(Math.max(0, m.index - 24), m.index);
      const line = before.slice(before.lastIndexOf('\n') + 1);
      if (!VERSION_BEFORE.test(line)) push(out, 'IP', m.index, m.index + m[0].length);
    }
  }
  if (!text.includes(':')) return;
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(text); m !== null; m = IPV6.exec(text)) {
    let cand = m[0];
    if (cand.endsWith(':') && !cand.endsWith('::')) cand = cand.slice(0, -1);
    if (!/[0-9A-Fa-f]/.test(cand) || !ipv6Valid(cand)) continue;
    const end = m.index + cand.length;
    // Python slices like a[::2] are not addresses.
    if (/^::[0-9A-Fa-f]{1,4}$/.test(cand) && text[m.index - 1] === '[' && text[end] === ']') continue;
    push(out, 'IP', m.index, end);
  }
}

// ---------------------------------------------------------------- PHONE
const PHONE_INTL = /(?<![\w+])\+[1-9][\d ()./-]{5,24}\d(?!\w)/g;
const PHONE_US =
  /(?<![\w+./-])(?:1[ .-])?(?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}(?![\w]|[.-]\d)/g;
const PHONE_TRUNK = /(?<![\w.+/-])0\d{1,4}(?:[ ./-]\d{2,8}){1,4}(?![\w]|[./-]\d)/g;
const PHONE_ES = /(?<![\w.,+/-])[6789]\d\d [0-9]{3} [0-9]{3}(?![\w]|[ .,]\d)/g;

function intlPhoneEnd(raw: string): number {
  // Drop trailing groups while the number is longer than E.164 allows; check shape.
  let s = raw;
  for (;;) {
    const digits = s.replace(/\(0\)/g, '').replace(/\D/g, '').length;
    const balanced = (s.match(/\(/g) ?? []).length === (s.match(/\)/g) ?? []).length;
    const flat = s.replace(/\(0\)/g, '').replace(/[()]/g, '');
    if (digits >= 8 && digits <= 15 && balanced && !/[ ./-]{2}/.test(flat)) return s.length;
    if (digits <= 15) return -1;
    const cut = s.search(/[ ./-]\(?\d+\)?$/);
    if (cut <= 0) return -1;
    s = s.slice(0, cut);
  }
}

function detectPhone(text: string, out: Span[]): void {
  if (text.includes('+')) {
    PHONE_INTL.lastIndex = 0;
    for (let m = PHONE_INTL.exec(text); m !== null; m = PHONE_INTL.exec(text)) {
      const len = intlPhoneEnd(m[0]);
      if (len > 0) push(out, 'PHONE', m.index, m.index + len);
    }
  }
  PHONE_US.lastIndex = 0;
  for (let m = PHONE_US.exec(text); m !== null; m = PHONE_US.exec(text)) {
    push(out, 'PHONE', m.index, m.index + m[0].length);
  }
  PHONE_TRUNK.lastIndex = 0;
  for (let m = PHONE_TRUNK.exec(text); m !== null; m = PHONE_TRUNK.exec(text)) {
    const raw = m[0];
    const digits = raw.replace(/\D/g, '').length;
    if (looksLikeDate(raw) || (raw.match(/\//g) ?? []).length > 1) continue;
    if (raw.startsWith('00')) {
      if (!/^00[1-9]\d{0,2} /.test(raw) || digits < 10 || digits > 15) continue; // 0049 30 1234567
    } else if (digits < 9 || digits > 12) continue;
    push(out, 'PHONE', m.index, m.index + raw.length);
  }
  PHONE_ES.lastIndex = 0;
  for (let m = PHONE_ES.exec(text); m !== null; m = PHONE_ES.exec(text)) {
    push(out, 'PHONE', m.index, m.index + m[0].length);
  }
}

export function detectStructured(text: string, out: Span[]): void {
  detectEmail(text, out);
  detectIban(text, out);
  detectCard(text, out);
  detectSsnAndNino(text, out);
  detectContextualIds(text, out);
  detectIp(text, out);
  detectPhone(text, out);
}
