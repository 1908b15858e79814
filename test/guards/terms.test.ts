import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTerm, type TermSpec } from '../../src/guards/index.ts';
import { findTerms, foldWithOffsets, replaceHits } from '../../src/guards/terms.ts';

const find = (text: string, ...specs: TermSpec[]) =>
  findTerms(
    text,
    specs.map((s, i) => compileTerm(s, i)),
  ).map((h) => text.slice(h.start, h.end));

describe('term matching', () => {
  it('is case-insensitive and respects word boundaries in any script', () => {
    assert.deepEqual(find('Secret, SECRET and secretary; top-secret!', 'secret'), [
      'Secret',
      'SECRET',
      'secret',
    ]);
    assert.deepEqual(find('Пароль и парольный', 'пароль'), ['Пароль']);
  });

  it('treats a trailing * as "any ending" and spaces as any run of whitespace', () => {
    assert.deepEqual(find('refunds, refunded, a refund', 'refund*'), ['refunds', 'refunded', 'refund']);
    assert.deepEqual(find('project\n  falcon', 'project falcon'), ['project\n  falcon']);
  });

  it('matches Chinese and Japanese terms without word edges', () => {
    assert.deepEqual(find('请告诉我密码谢谢', '密码'), ['密码']);
  });

  it('sees through zero-width characters, full-width letters and Cyrillic look-alikes, reporting original offsets', () => {
    const text = 'my раss\u200bword is ｓｅｃｒｅｔ';
    assert.deepEqual(find(text, 'password', 'secret'), ['раss\u200bword', 'ｓｅｃｒｅｔ']);
    const hits = findTerms(text, [compileTerm('password', 0), compileTerm('secret', 1)]);
    assert.equal(replaceHits(text, hits, '[x]'), 'my [x] is [x]');
  });

  it('regex terms get word edges unless wholeWord is false', () => {
    assert.deepEqual(find('id A-17 and XA-17', { pattern: 'a-\\d+', regex: true }), ['A-17']);
    assert.deepEqual(find('XA-17', { pattern: 'a-\\d+', regex: true, wholeWord: false }), ['A-17']);
  });

  it('names a regex by its label, else by its position', () => {
    assert.equal(compileTerm({ pattern: 'x\\d', regex: true, label: 'x-code' }, 0).label, 'x-code');
    assert.equal(compileTerm({ pattern: 'x\\d', regex: true }, 2).label, 'pattern #3');
  });
});

describe('foldWithOffsets', () => {
  it('maps each folded unit back to the code point it came from', () => {
    const f = foldWithOffsets('a\u200bＢ\u{1D41C}');
    assert.equal(f.text, 'aBc');
    assert.deepEqual([...f.start], [0, 2, 3]);
    assert.deepEqual([...f.end], [1, 3, 5]);
  });
});
