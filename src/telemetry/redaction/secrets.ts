/**
 * SECRET detectors: vendor token formats, JWTs, Bearer/Basic credentials, PEM
 * private key blocks and generic `password=` / `api_key:` assignments.
 *
 * Every pattern is anchored on a token boundary (look-behind) so a long run of
 * token characters is scanned from one start position only, and no pattern
 * nests unbounded quantifiers: matching stays linear in the input length.
 */
import type { Span } from './types.ts';

const P_PEM = 0;
const P_TOKEN = 1;
const P_ASSIGN = 2;

/** Vendor formats whose whole match is the secret. */
const TOKEN_PATTERNS: readonly RegExp[] = [
  /(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]{0,200}\d)[A-Za-z0-9_-]{20,}/g, // OpenAI, Anthropic (sk-ant-…)
  /(?<![A-Za-z0-9_-])[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g, // Stripe secret / restricted keys
  /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g, // AWS access key ids
  /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{30,}/g, // GitHub tokens
  /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}/g, // GitHub fine-grained PATs
  /(?<![A-Za-z0-9_-])(?:xox[abposre]-|xapp-\d-)[A-Za-z0-9-]{10,}/g, // Slack tokens
  /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g, // Google API keys
  /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}/g, // GitLab PATs
  /(?<![A-Za-z0-9_])(?:hf|npm)_[A-Za-z0-9]{30,}/g, // Hugging Face, npm tokens
];

/** Password inside a URL's userinfo: scheme://user:PASSWORD@host (group 1). */
const URL_PASSWORD = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/@]{0,64}:([^\s@/]{1,128})@/dg;

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.([A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]*)/g;

/** Only the credential itself (group 1) is replaced; "Bearer " stays for readability. */
const BEARER = /(?<![A-Za-z0-9_-])bearer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)/dgi;
const BASIC = /authorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+([A-Za-z0-9+/]{8,}={0,2})/dgi;

/** Key names that carry a secret value when assigned. Anchored at the end of the key. */
const SECRET_KEY_WORDS =
  '(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?(?:access[_-]?)?key)?|client[_-]?secret|' +
  'password|passwd|passphrase|pwd|(?:access|auth|refresh|bearer|session|api|private|id)[_-]?token|token|' +
  'private[_-]?key)';

/** Keyword at the end of a key, then `:` or `=`. The key start is found by walking back (bounded). */
const KEY_THEN_OP = new RegExp(`${SECRET_KEY_WORDS}(["']?)[ \\t]*[:=][ \\t]*`, 'gi');
const ASSIGNED_VALUE = /"([^"\n]{1,256})"|'([^'\n]{1,256})'|([^\s"'`,;<>(){}[\]]{1,256})/y;
const KEY_CHAR = /[A-Za-z0-9_.-]/;

/** Natural-language disclosure: "my password is hunter22". */
const PROSE_PASSWORD =
  /(?<![A-Za-z])(?:password|passcode|passphrase|pwd)[ \t]+(?:is|was)[ \t]+(?:now[ \t]+|still[ \t]+)?["']?([^\s"',;]{6,64})/dgi;

/** Whole-key match used by redactDeep for object keys (`{"password": "…"}`). */
export const SECRET_KEY_NAME = new RegExp(
  `^(?:[A-Za-z0-9_.-]{0,40}?[_.-])?${SECRET_KEY_WORDS}$|^(?:proxy-)?authorization$|^(?:set-)?cookie$`,
  'i',
);

const PROSE_STOPWORDS = new Set([
  'incorrect',
  'invalid',
  'required',
  'expired',
  'missing',
  'correct',
  'different',
  'changed',
  'stored',
  'hashed',
  'encrypted',
  'visible',
  'displayed',
  'case-sensitive',
  'optional',
  'mandatory',
  'accepted',
  'rejected',
  'wrong',
  'strong',
  'secure',
  'insecure',
  'updated',
  'protected',
  'compromised',
  'leaked',
]);

const PLACEHOLDER_VALUE = /^<[A-Z_]+(?:_\d+|:[0-9a-f]{8})>$/;
const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const NON_SECRET_LITERAL =
  /^(?:true|false|null|nil|none|undefined|yes|no|on|off|string|number|required|optional|redacted|hidden|masked|changeme|example|placeholder|secret|password|token|your[_-]?\w*)$/i;

/** Values that are references or placeholders rather than a secret. */
export function looksLikeSecretValue(value: string): boolean {
  if (value.length < 4) return false;
  if (/^[$%{<@]/.test(value) || value.startsWith('process.env') || value.startsWith('os.environ'))
    return false;
  if (/^(?:env|ENV|secrets|vault|ssm|arn|file|keyring):/.test(value) || value.startsWith('env.'))
    return false;
  if (/^(.)\1*$/.test(value)) return false; // ******** / xxxxxxxx
  if (ENV_NAME.test(value) || NON_SECRET_LITERAL.test(value) || PLACEHOLDER_VALUE.test(value)) return false;
  return true;
}

function push(out: Span[], start: number, end: number, priority: number): void {
  if (end > start) out.push({ start, end, type: 'SECRET', priority });
}

function detectPem(text: string, out: Span[]): void {
  if (!text.includes('PRIVATE KEY')) return;
  const begin = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY-----/g;
  const WINDOW = 20_000;
  for (let m = begin.exec(text); m !== null; m = begin.exec(text)) {
    const from = m.index + m[0].length;
    const endMarker = `-----END ${m[1] ?? ''}PRIVATE KEY-----`;
    const rel = text.slice(from, from + WINDOW).indexOf(endMarker);
    if (rel >= 0) {
      const end = from + rel + endMarker.length;
      push(out, m.index, end, P_PEM);
      begin.lastIndex = end;
      continue;
    }
    // Truncated block: still a secret. Take the base64 body that follows (bounded).
    const body = /[A-Za-z0-9+/=\s\\]{0,20000}/y;
    body.lastIndex = from;
    const b = body.exec(text);
    push(out, m.index, from + (b ? b[0].length : 0), P_PEM);
  }
}

function detectTokens(text: string, out: Span[]): void {
  for (const re of TOKEN_PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text))
      push(out, m.index, m.index + m[0].length, P_TOKEN);
  }
  if (text.includes('eyJ')) {
    JWT.lastIndex = 0;
    for (let m = JWT.exec(text); m !== null; m = JWT.exec(text)) {
      const payload = m[1] ?? '';
      const sig = m[2] ?? '';
      if (sig.length >= 8 || payload.startsWith('eyJ')) push(out, m.index, m.index + m[0].length, P_TOKEN);
    }
  }
  if (text.includes('://')) {
    URL_PASSWORD.lastIndex = 0;
    for (let m = URL_PASSWORD.exec(text); m !== null; m = URL_PASSWORD.exec(text)) {
      const g = m.indices?.[1];
      if (g && looksLikeSecretValue(m[1] ?? '')) push(out, g[0], g[1], P_TOKEN);
    }
  }
  for (const re of [BEARER, BASIC]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const g = m.indices?.[1];
      const value = m[1] ?? '';
      if (g && (re === BASIC || /\d/.test(value))) push(out, g[0], g[1], P_TOKEN);
    }
  }
}

function trimValue(value: string, quoted: boolean): string {
  let v = value;
  if (!quoted) {
    const amp = v.search(/&[A-Za-z_][A-Za-z0-9_]*=/);
    if (amp > 0) v = v.slice(0, amp);
    if (v.endsWith('.')) v = v.slice(0, -1);
  }
  return v;
}

function keyStartsCleanly(text: string, keywordStart: number, closingQuote: string): boolean {
  let i = keywordStart;
  const limit = Math.max(0, keywordStart - 40);
  while (i > limit && KEY_CHAR.test(text[i - 1] ?? '')) i--;
  if (i > 0 && KEY_CHAR.test(text[i - 1] ?? '')) return false; // key longer than we are willing to scan
  if (closingQuote === '') return true;
  return text[i - 1] === closingQuote;
}

function detectAssignments(text: string, out: Span[]): void {
  KEY_THEN_OP.lastIndex = 0;
  for (let m = KEY_THEN_OP.exec(text); m !== null; m = KEY_THEN_OP.exec(text)) {
    if (!keyStartsCleanly(text, m.index, m[1] ?? '')) continue;
    const valueStart = m.index + m[0].length;
    ASSIGNED_VALUE.lastIndex = valueStart;
    const v = ASSIGNED_VALUE.exec(text);
    if (!v) continue;
    const quoted = v[3] === undefined;
    const raw = v[1] ?? v[2] ?? v[3] ?? '';
    const value = trimValue(raw, quoted);
    const start = valueStart + (quoted ? 1 : 0);
    if (looksLikeSecretValue(value)) push(out, start, start + value.length, P_ASSIGN);
  }
  PROSE_PASSWORD.lastIndex = 0;
  for (let m = PROSE_PASSWORD.exec(text); m !== null; m = PROSE_PASSWORD.exec(text)) {
    const range = m.indices?.[1];
    const raw = m[1];
    if (!range || raw === undefined) continue;
    const value = raw.replace(/[.!?]$/, '');
    if (value.length >= 6 && !PROSE_STOPWORDS.has(value.toLowerCase()) && looksLikeSecretValue(value)) {
      push(out, range[0], range[0] + value.length, P_ASSIGN);
    }
  }
}

export function detectSecrets(text: string, out: Span[]): void {
  detectPem(text, out);
  detectTokens(text, out);
  if (text.includes('=') || text.includes(':') || /pass|pwd/i.test(text)) detectAssignments(text, out);
}
