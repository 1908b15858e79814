import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SseParser } from '../../src/providers/sse.ts';

const line = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', ':', '{', '"', 'é', '😀', '1'),
  maxLength: 20,
});

test('SSE: any events, any line endings, split at any byte boundary, parse back the same', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          event: fc.option(fc.constantFrom('message_start', 'ping', 'error')),
          data: fc.array(line, { minLength: 1, maxLength: 3 }),
        }),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
      fc.constantFrom('\n', '\r\n', '\r'),
      fc.array(fc.nat(), { maxLength: 8 }),
      (events, eol, cuts) => {
        let text = ': a comment' + eol;
        for (const e of events) {
          if (e.event) text += `event: ${e.event}${eol}`;
          for (const d of e.data) text += `data: ${d}${eol}`;
          text += eol;
        }
        const bytes = new TextEncoder().encode(text);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parser = new SseParser();
        const out = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          out.push(...parser.push(bytes.subarray(at, p)));
          at = p;
        }
        assert.deepEqual(
          out.map((e) => ({ event: e.event, data: e.data })),
          events.map((e) => ({ event: e.event ?? 'message', data: e.data.join('\n') })),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('SSE: data without a blank line is not dispatched; an id is kept', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('id: 7\ndata: x\n'), []);
  assert.deepEqual(parser.push('\n'), [{ event: 'message', data: 'x', id: '7' }]);
});
