import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  applyBodyPolicy,
  ENTITY_TYPES,
  type EntityType,
  hashPii,
  REDACTION_FAILED,
  redact,
  redactDeep,
} from '../../src/telemetry/redaction.ts';

interface CorpusEntry {
  id: string;
  text: string;
  entities: { type: EntityType; value: string }[];
}

const corpus: CorpusEntry[] = readFileSync(new URL('../fixtures/pii-corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as CorpusEntry);

const PLACEHOLDER = /<(EMAIL|PHONE|CARD|IBAN|NATIONAL_ID|IP|SECRET)_\d+>/g;

interface Tally {
  support: number;
  tp: number;
  fn: number;
  fp: number;
}

function score() {
  const tally = Object.fromEntries(
    ENTITY_TYPES.map((t) => [t, { support: 0, tp: 0, fn: 0, fp: 0 }]),
  ) as Record<EntityType, Tally>;
  const misses: string[] = [];
  let clean = 0;
  let cleanAltered = 0;
  for (const entry of corpus) {
    const out = redact(entry.text).text;
    const placeholders = new Map<EntityType, Set<string>>();
    for (const m of out.matchAll(PLACEHOLDER)) {
      const type = m[1] as EntityType;
      const set = placeholders.get(type) ?? new Set<string>();
      set.add(m[0]);
      placeholders.set(type, set);
    }
    if (entry.entities.length === 0) {
      clean++;
      if (out !== entry.text) {
        cleanAltered++;
        misses.push(`altered PII-free ${entry.id}: ${JSON.stringify(out)}`);
      }
    }
    for (const type of ENTITY_TYPES) {
      const values = new Set(entry.entities.filter((e) => e.type === type).map((e) => e.value));
      const seen = placeholders.get(type)?.size ?? 0;
      for (const value of values) {
        tally[type].support++;
        if (!out.includes(value) && seen > 0) tally[type].tp++;
        else {
          tally[type].fn++;
          misses.push(`FN ${type} ${entry.id}: ${JSON.stringify(value)} -> ${JSON.stringify(out)}`);
        }
      }
      if (seen > values.size) {
        tally[type].fp += seen - values.size;
        misses.push(`FP ${type} ${entry.id}: ${JSON.stringify(out)}`);
      }
    }
  }
  return { tally, misses, clean, cleanAltered };
}

const pct = (n: number) => (Number.isNaN(n) ? '   n/a' : n.toFixed(3).padStart(6));

describe('PII corpus', () => {
  it('meets recall and precision targets on the labelled corpus', () => {
    const { tally, misses, clean, cleanAltered } = score();
    const rows = ['type          support  precision  recall'];
    let tp = 0;
    let support = 0;
    for (const type of ENTITY_TYPES) {
      const t = tally[type];
      tp += t.tp;
      support += t.support;
      rows.push(
        `${type.padEnd(12)} ${String(t.support).padStart(8)}  ${pct(t.tp / (t.tp + t.fp)).padStart(9)}  ${pct(t.tp / t.support)}`,
      );
    }
    const overallRecall = tp / support;
    const alteredShare = cleanAltered / clean;
    rows.push(`overall recall ${overallRecall.toFixed(3)} (${tp}/${support})`);
    rows.push(`PII-free snippets altered ${(alteredShare * 100).toFixed(1)}% (${cleanAltered}/${clean})`);
    console.log(`${corpus.length} snippets\n${rows.join('\n')}`);
    if (misses.length > 0) console.log(misses.join('\n'));

    assert.ok(corpus.length >= 320, 'corpus has at least 320 snippets');
    assert.ok(overallRecall >= 0.98, `overall recall ${overallRecall}`);
    for (const type of ENTITY_TYPES) {
      const t = tally[type];
      assert.ok(t.support >= 40, `${type} support ${t.support}`);
      assert.ok(t.tp / t.support >= 0.95, `${type} recall ${t.tp / t.support}`);
    }
    assert.ok(clean >= 120, `PII-free snippets: ${clean}`);
    assert.ok(alteredShare <= 0.05, `PII-free snippets altered: ${alteredShare}`);
  });
});

describe('validators', () => {
  it('redacts a Luhn-valid card and leaves a Luhn-invalid one alone', () => {
    assert.equal(redact('card 4111 1111 1111 1111 ok').text, 'card <CARD_1> ok');
    assert.equal(redact('card 4111-1111-1111-1111').text, 'card <CARD_1>');
    assert.equal(redact('card 4111 1111 1111 1112 ok').text, 'card 4111 1111 1111 1112 ok');
    assert.equal(
      redact('ref 1234567812345670').text,
      'ref 1234567812345670',
      'Luhn-valid but no issuer prefix',
    );
    assert.equal(redact('card 4111 1111 1111 1111 12/27').text, 'card <CARD_1> 12/27');
  });

  it('checks the IBAN mod-97 checksum, with or without spaces', () => {
    assert.equal(redact('to GB82 WEST 1234 5698 7654 32.').text, 'to <IBAN_1>.');
    assert.equal(redact('to GB82WEST12345698765432').text, 'to <IBAN_1>');
    assert.equal(redact('to GB82 WEST 1234 5698 7654 33').found.IBAN, 0);
    assert.equal(redact('to DE00 3704 0044 0532 0130 00').found.IBAN, 0);
  });

  it('excludes invalid SSN ranges, with or without an SSN context word', () => {
    for (const bad of [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-45-6789',
      '123-00-4567',
      '123-45-0000',
    ]) {
      assert.equal(redact(`number ${bad}`).found.NATIONAL_ID, 0, bad);
      assert.equal(redact(`SSN: ${bad}`).found.NATIONAL_ID, 0, `SSN: ${bad}`);
    }
    assert.equal(redact('SSN: 123-45-6780').text, 'SSN: <NATIONAL_ID_1>');
    assert.equal(redact('number 665-99-9999').text, 'number <NATIONAL_ID_1>');
    assert.equal(redact('order 123456789').found.NATIONAL_ID, 0, 'bare 9 digits need a context word');
    assert.equal(redact('SSN 123456789').text, 'SSN <NATIONAL_ID_1>');
  });

  it('tells IPs from version strings', () => {
    assert.equal(redact('from 10.0.1.2 now').text, 'from <IP_1> now');
    for (const s of ['1.2.3', '10.0.1.2-beta', 'v1.2.3.4', 'version 2.5.10.3', '256.1.1.1', '1.2.3.4.5']) {
      assert.equal(redact(`release ${s}`).text, `release ${s}`, s);
    }
    assert.equal(redact('peer 2001:db8::1 and ::1').text, 'peer <IP_1> and <IP_2>');
    assert.equal(redact('at 12:30:45 std::vector').found.IP, 0);
  });
});

describe('placeholders', () => {
  it('numbers per type and reuses a placeholder for the same value', () => {
    const r = redact('a@x.com wrote to b@y.com; a@x.com from 10.0.0.1 and 10.0.0.2, 10.0.0.1 again');
    assert.equal(r.text, '<EMAIL_1> wrote to <EMAIL_2>; <EMAIL_1> from <IP_1> and <IP_2>, <IP_1> again');
    assert.equal(r.found.EMAIL, 3);
    assert.equal(r.found.IP, 3);
    assert.equal(r.found.CARD, 0);
    assert.equal(redact('c@z.com').text, '<EMAIL_1>', 'numbering restarts per call');
    assert.equal(redact('4111 1111 1111 1111 / 4111-1111-1111-1111').text, '<CARD_1> / <CARD_1>');
  });

  it('hashPii uses short keyed digests that depend on the salt', () => {
    const a = hashPii('mail jane@example.com, again jane@example.com', 'salt-1');
    assert.match(a.text, /^mail <EMAIL:[0-9a-f]{8}>, again <EMAIL:[0-9a-f]{8}>$/);
    const [first, second] = a.text.match(/<EMAIL:[0-9a-f]{8}>/g) ?? [];
    assert.equal(first, second);
    assert.equal(hashPii('jane@example.com', 'salt-1').text, first);
    assert.notEqual(hashPii('jane@example.com', 'salt-2').text, first);
    assert.throws(() => hashPii('jane@example.com', ''));
  });
});

describe('redactDeep and applyBodyPolicy', () => {
  const body = {
    model: 'gpt-4o-2024-08-06',
    messages: [
      { role: 'user', content: 'I am jane@example.com, card 4111 1111 1111 1111' },
      { role: 'assistant', content: 'Thanks jane@example.com' },
    ],
    metadata: { 'jane@example.com': 1, nested: [[{ ip: '203.0.113.9' }]], password: 'hunter22', count: 3 },
    pan: 4111111111111111,
    ok: true,
    none: null,
  };

  it('redacts every string in a nested value, leaves keys alone and does not mutate the input', () => {
    const before = JSON.stringify(body);
    const out = redactDeep(body);
    assert.equal(JSON.stringify(body), before);
    assert.deepEqual(out, {
      model: 'gpt-4o-2024-08-06',
      messages: [
        { role: 'user', content: 'I am <EMAIL_1>, card <CARD_1>' },
        { role: 'assistant', content: 'Thanks <EMAIL_1>' },
      ],
      metadata: { 'jane@example.com': 1, nested: [[{ ip: '<IP_1>' }]], password: '<SECRET_1>', count: 3 },
      pan: '<CARD_1>',
      ok: true,
      none: null,
    });
  });

  it('handles cycles without recursing forever', () => {
    const a: Record<string, unknown> = { email: 'x@example.org' };
    a.self = a;
    assert.deepEqual(redactDeep(a), { email: '<EMAIL_1>', self: '[circular]' });
  });

  it('applies drop, redact and hash modes', () => {
    assert.equal(applyBodyPolicy(body, 'drop', 's'), '[dropped]');
    assert.deepEqual(applyBodyPolicy(body, 'redact', 's'), redactDeep(body));
    const hashed = JSON.stringify(applyBodyPolicy(body, 'hash', 's'));
    assert.ok(!hashed.includes('jane@example.com","') && !hashed.includes('4111'), hashed);
    assert.match(hashed, /<EMAIL:[0-9a-f]{8}>/);
  });

  it('fails closed: a throwing getter drops the whole body, never returns raw text', () => {
    const hostile = {
      content: 'call me at +1 415 555 0132 or jane@example.com',
      get boom(): string {
        throw new Error('getter exploded');
      },
    };
    for (const mode of ['redact', 'hash'] as const) {
      const out = applyBodyPolicy(hostile, mode, 'salt');
      assert.equal(out, REDACTION_FAILED);
      assert.ok(!JSON.stringify(out).includes('jane@example.com'));
      assert.ok(!JSON.stringify(out).includes('555 0132'));
    }
    assert.equal(applyBodyPolicy('jane@example.com', 'hash', ''), REDACTION_FAILED, 'empty salt');
    assert.equal(
      applyBodyPolicy('jane@example.com', 'bogus' as never, 's'),
      REDACTION_FAILED,
      'unknown mode',
    );
    let deep: unknown = 'jane@example.com';
    for (let i = 0; i < 500; i++) deep = [deep];
    assert.equal(applyBodyPolicy(deep, 'redact', 's'), REDACTION_FAILED, 'too deep');
  });
});

describe('performance', () => {
  const MB = 1 << 20;
  const timed = (name: string, input: string) => {
    assert.ok(input.length >= MB);
    const t0 = performance.now();
    redact(input);
    const ms = performance.now() - t0;
    console.log(`redact ${name} (1 MB): ${ms.toFixed(0)} ms`);
    assert.ok(ms < 2000, `${name}: ${ms.toFixed(0)} ms`);
  };

  it('stays linear on 1 MB of digits, dots and @ signs', () => {
    let seed = 42;
    const alphabet = '0123456789.@';
    let s = '';
    while (s.length < MB) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += alphabet[seed % alphabet.length];
    }
    timed('random digits/dots/@', s);
    timed('dotted quads', '1.2.3.4.'.repeat(MB / 8));
    timed('digits only', '4'.repeat(MB));
    timed('a@b.c chains', 'a@1.2.3.'.repeat(MB / 8));
  });

  it('stays linear on other adversarial shapes', () => {
    timed('spaced digits', '1 '.repeat(MB / 2));
    timed('hex and colons', 'f:'.repeat(MB / 2));
    timed('token runs', `sk-${'a'.repeat(MB)}`);
    timed('jwt-ish', 'eyJ'.repeat(MB / 3 + 1));
    timed('key=value pairs', 'password=x '.repeat(MB / 11 + 1));
    timed('context words', 'SSN passport 1 '.repeat(MB / 15 + 1));
  });
});

describe('the PII prefilter', () => {
  it('never skips text that a detector would match', async () => {
    const fc = (await import('fast-check')).default;
    const { detectSecrets } = await import('../../src/telemetry/redaction/secrets.ts');
    const { detectStructured } = await import('../../src/telemetry/redaction/patterns.ts');
    const { mayHoldPii } = await import('../../src/telemetry/redaction/redact.ts');
    const full = (text: string) => {
      const spans: Parameters<typeof detectSecrets>[1] = [];
      detectSecrets(text, spans);
      detectStructured(text, spans);
      return spans;
    };
    // Every corpus snippet with PII passes the filter.
    for (const entry of corpus) {
      if (full(entry.text).length > 0) assert.ok(mayHoldPii(entry.text), entry.text);
    }
    // And random text built from the characters PII is made of never slips past it.
    const alphabet = fc.constantFrom(...'abcxyzAKIJSEOQ0123456789@.-_:=/+ \n'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (chars) => {
        const text = chars.join('');
        if (!mayHoldPii(text)) assert.deepEqual(full(text), [], text);
      }),
      { numRuns: 3000 },
    );
  });
});
