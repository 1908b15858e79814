/**
 * Malformed-HTTP fuzzing over raw TCP against a running gateway: broken framing, broken bytes, header
 * tricks, smuggling shapes, oversized everything, slow clients.
 *
 * For every case the connection gets either well-formed HTTP/1.x responses (parsed strictly) with no
 * 5xx, or is closed by the server; never a hang past a few seconds (a client that waits for a body
 * that never comes half-closes after a short silence, as a real client would, and the server must then
 * close). A response never carries a header injected through a request header, never echoes a
 * non-plain x-request-id, and never answers a request smuggled inside another's body. /healthz still
 * answers afterwards.
 *
 * Every 4xx that has a body, including the parser's own 400/431 written before Keel sees a request,
 * must be OpenAI's error shape; Node answers a few cases (HTTP/1.1 without Host, an unknown Expect)
 * with an empty body, counted as "(empty body)" in the summary.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';
import { type Exchange, exchange, type Part, show } from './raw-http.ts';
import { fcParams, openAIErrorProblem, send } from './support.ts';

const BODY_LIMIT = 1024 * 1024;
const INJECTED = ['x-injected', 'set-cookie', 'x-smuggled'];
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SMUGGLED = 'smuggled-d41d8cd9';

const yaml = `
server: { bodyLimitBytes: ${BODY_LIMIT} }
providers: { sim: { type: simulated } }
models: { m: { provider: sim, model: m, simulate: { ttftMs: { p50: 0, p99: 0 }, tokensPerSecond: 1000000, outputTokens: 4 } } }
routes:
  chat: { targets: [{ model: m }] }
`;

let gateway: Gateway | undefined;
let port = 0;
let inputs = 0;
const failures: string[] = [];

before(async () => {
  gateway = await gatewayFromYaml(yaml);
  port = Number(new URL(gateway.url).port);
});

after(async () => {
  try {
    const health = gateway ? await send(gateway.url, '/healthz') : undefined;
    const summary = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o}×${n}`);
    console.log(
      `fuzz: http total: ${inputs} inputs, ${failures.length} failures (outcomes ${summary.join(', ')})`,
    );
    assert.equal(health?.status, 200, 'the gateway answers /healthz after the malformed-HTTP run');
  } finally {
    await gateway?.close();
  }
});

interface Case {
  name: string;
  parts: Part[];
  /** A 2xx is acceptable too (the bytes are odd but legal, or decode to something valid). */
  allow2xx?: boolean;
  /** Responses to expect on a keep-alive connection (pipelining). */
  expect?: number;
  totalMs?: number;
  head?: boolean;
}

/** What is wrong with the exchange, or undefined. */
function verdict(c: Case, ex: Exchange): string | undefined {
  if (ex.timedOut)
    return `hang: no response and no close within ${ex.ms.toFixed(0)} ms (got ${ex.received} bytes)`;
  if (ex.malformed) return `malformed response: ${ex.malformed}`;
  const finals = ex.responses.filter((r) => r.status >= 200);
  for (const r of ex.responses) {
    const body = r.body.toString('utf8').slice(0, 200);
    if (r.status >= 500) return `server error: ${r.statusLine} ${body}`;
    if (r.status >= 300 && r.status < 400) return `redirect: ${r.statusLine}`;
    if (r.status >= 200 && r.status < 300 && !c.allow2xx) return `accepted: ${r.statusLine} ${body}`;
    for (const [name, value] of r.headers) {
      if (INJECTED.includes(name)) return `response carries injected header ${name}: ${value}`;
      if (name === 'x-request-id' && !REQUEST_ID.test(value))
        return `x-request-id echoed unsafely: ${JSON.stringify(value)}`;
    }
    if (r.body.includes(SMUGGLED)) return `a smuggled request was answered: ${body}`;
    // A 4xx with a body speaks OpenAI's error shape, whoever wrote it (Keel, Fastify or the parser).
    if (r.status >= 400 && r.body.length > 0 && !c.head) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.body.toString('utf8'));
      } catch {
        return `4xx body is not JSON: ${r.statusLine} ${body}`;
      }
      const problem = openAIErrorProblem(parsed);
      if (problem) return `4xx body is not OpenAI's error shape (${problem}): ${r.statusLine} ${body}`;
    }
  }
  if (finals.length === 0 && !ex.closedByServer) return 'no response, connection left open';
  return undefined;
}

/** How exchanges ended: "400", "413", "closed", ... with counts, for the summary line. */
const outcomes = new Map<string, number>();

function outcome(ex: Exchange): string {
  const final = ex.responses.find((r) => r.status >= 200);
  // Node itself answers a few cases (HTTP/1.1 without Host, an unknown Expect) with an empty body.
  if (final)
    return final.status >= 400 && final.body.length === 0
      ? `${final.status} (empty body)`
      : String(final.status);
  return ex.timedOut ? 'hang' : ex.halfClosed ? 'closed after our FIN' : 'closed';
}

async function run(c: Case): Promise<string | undefined> {
  inputs++;
  const ex = await exchange(port, c.parts, {
    totalMs: c.totalMs ?? 5_000,
    silenceMs: 300,
    ...(c.expect ? { expect: c.expect } : {}),
    ...(c.head ? { head: true } : {}),
  });
  const o = outcome(ex);
  outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
  if (process.env.KEEL_FUZZ_VERBOSE === '1') console.log(`fuzz: ${c.name}: ${o} in ${ex.ms.toFixed(0)} ms`);
  const problem = verdict(c, ex);
  if (problem) {
    const what = `${c.name}: ${problem}; sent ${show(c.parts, 300)}`;
    if (failures.length < 20) failures.push(what);
    return what;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// Building blocks
// ------------------------------------------------------------------------------------------------

const CHAT = '{"model":"chat","messages":[{"role":"user","content":"hi"}]}';
const bytes = (...b: number[]) => Buffer.from(b);
const cat = (...parts: Array<string | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

function post(body: string | Buffer, headers: string[] = [], path = '/v1/chat/completions'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return cat(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`,
    headers.map((h) => `${h}\r\n`).join(''),
    `Content-Length: ${b.length}\r\nConnection: close\r\n\r\n`,
    b,
  );
}

function get(path: string, headers: string[] = []): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;
}

const smuggled = `GET /${SMUGGLED} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

// ------------------------------------------------------------------------------------------------
// Named cases
// ------------------------------------------------------------------------------------------------

const CASES: Case[] = [
  // Invalid JSON and invalid UTF-8 in bodies.
  { name: 'invalid JSON bytes', parts: [post('{"model":"chat",')] },
  { name: 'JSON with a trailing comma', parts: [post('{"model":"chat","messages":[],}')] },
  { name: 'NUL bytes as the body', parts: [post(Buffer.alloc(64))] },
  {
    name: 'random binary body',
    parts: [post(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0x7b))],
  },
  { name: 'invalid UTF-8 outside strings', parts: [post(cat('{"model":"chat",', bytes(0xff, 0xfe), '}'))] },
  {
    name: 'invalid UTF-8 inside a string (decodes to U+FFFD)',
    parts: [
      post(
        cat(
          '{"model":"chat","messages":[{"role":"user","content":"',
          bytes(0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0xe2, 0x82),
          '"}]}',
        ),
      ),
    ],
    allow2xx: true,
  },
  {
    name: 'overlong UTF-8 quote',
    parts: [post(cat('{"model":"chat","messages":[{"role":"user","content":"a', bytes(0xc0, 0xa2), '}]}'))],
  },
  { name: 'UTF-16 body', parts: [post(Buffer.from(`\ufeff${CHAT}`, 'utf16le'))] },
  { name: 'deeply nested JSON (100k "[")', parts: [post('['.repeat(100_000))] },
  { name: 'deeply nested objects (50k)', parts: [post(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`)] },
  // Invalid bytes in header values and names.
  {
    name: 'invalid UTF-8 in x-keel-user / x-request-id header values',
    parts: [
      post(CHAT, [
        cat('x-keel-user: ', bytes(0xff, 0xfe, 0xc0, 0x80)).toString('latin1'),
        cat('x-request-id: ', bytes(0xc3, 0x28, 0xa0, 0xa1)).toString('latin1'),
      ]),
    ],
    allow2xx: true,
  },
  { name: 'NUL in a header value', parts: [post(CHAT, ['x-keel-user: a\0b'])] },
  {
    name: 'DEL/control chars in a header value',
    parts: [post(CHAT, ['x-keel-user: a\x01\x7fb'])],
    allow2xx: true,
  },
  { name: 'space inside a header name', parts: [post(CHAT, ['x keel: 1'])] },
  {
    name: 'non-ASCII header name',
    parts: [post(CHAT, [cat(bytes(0xc3, 0xbc), 'ber: 1').toString('latin1')])],
  },
  { name: 'header without a colon', parts: [post(CHAT, ['just-a-name'])] },
  { name: 'obs-fold continuation line', parts: [post(CHAT, ['x-keel-user: a', ' folded'])] },
  // Content-Length / body framing.
  {
    name: 'truncated body with a larger Content-Length',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":"chat"`,
    ],
  },
  {
    name: 'negative Content-Length',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`,
    ],
  },
  {
    name: 'non-numeric Content-Length',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n{}`,
    ],
  },
  {
    name: 'huge Content-Length',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}`,
    ],
  },
  {
    name: 'Content-Length over the body limit',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT * 10}\r\n\r\n{}`,
    ],
  },
  {
    name: 'two different Content-Length headers',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: ${CHAT.length}\r\n\r\n${CHAT}`,
    ],
  },
  {
    name: 'Content-Length list "n, n"',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}, ${CHAT.length}\r\nConnection: close\r\n\r\n${CHAT}`,
    ],
    allow2xx: true,
  },
  {
    name: 'GET with a body',
    parts: [
      `GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    ],
    allow2xx: true,
  },
  // Chunked encoding errors.
  ...[
    ['bad chunk size', 'zz\r\n{}\r\n0\r\n\r\n'],
    ['chunk size overflow', 'ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n'],
    ['negative chunk size', '-2\r\n{}\r\n0\r\n\r\n'],
    ['chunk data longer than its size', '1\r\n{}\r\n0\r\n\r\n'],
    ['missing CRLF after chunk data', `${CHAT.length.toString(16)}\r\n${CHAT}0\r\n\r\n`],
    ['huge chunk extension', `2;${'e'.repeat(20_000)}=1\r\n{}\r\n0\r\n\r\n`],
    ['chunk extension with CR', '2;a=\rb\r\n{}\r\n0\r\n\r\n'],
    ['no terminating chunk', `${CHAT.length.toString(16)}\r\n${CHAT}\r\n`],
    ['LF-only chunk lines', `${CHAT.length.toString(16)}\n${CHAT}\n0\n\n`],
    ['trailer injecting a header', `${CHAT.length.toString(16)}\r\n${CHAT}\r\n0\r\nx-injected: 1\r\n\r\n`],
  ].map(
    ([name, body]): Case => ({
      name: `chunked: ${name}`,
      parts: [
        `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
      ],
      allow2xx: name === 'trailer injecting a header',
    }),
  ),
  // Request smuggling shapes: the second request hides in the first one's body.
  {
    name: 'smuggling CL.TE',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
  },
  {
    name: 'smuggling TE.CL',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`,
    ],
  },
  ...[
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: x',
    'Transfer-Encoding : chunked',
    'Transfer-Encoding: xchunked',
    'Transfer-Encoding:\tchunked',
    'Transfer-Encoding: chunked, identity',
    'Transfer-Encoding: CHUNKED',
    'Transfer-Encoding:\r\n chunked',
    'X: y\r\n Transfer-Encoding: chunked',
  ].map(
    (te): Case => ({
      name: `smuggling TE obfuscation ${JSON.stringify(te)}`,
      parts: [
        `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${5 + smuggled.length}\r\n${te}\r\n\r\n0\r\n\r\n${smuggled}`,
      ],
    }),
  ),
  // Duplicated headers.
  {
    name: 'two Content-Type headers (json, text/plain)',
    parts: [post(CHAT, ['Content-Type: text/plain'])],
    allow2xx: true,
  },
  {
    name: 'two Authorization headers',
    parts: [post(CHAT, ['Authorization: Bearer a', 'Authorization: Bearer b'])],
    allow2xx: true,
  },
  {
    name: 'two x-request-id headers',
    parts: [post(CHAT, ['x-request-id: abc', 'x-request-id: def'])],
    allow2xx: true,
  },
  {
    name: 'two Host headers',
    parts: [cat('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n')],
    allow2xx: true,
  },
  // Host.
  { name: 'HTTP/1.1 without Host', parts: ['GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'] },
  { name: 'HTTP/1.0 without Host', parts: ['GET /healthz HTTP/1.0\r\n\r\n'], allow2xx: true },
  {
    name: 'empty Host',
    parts: ['GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n'],
    allow2xx: true,
  },
  // Oversized headers.
  { name: 'a 20 KB header value', parts: [get('/healthz', [`x-keel-user: ${'a'.repeat(20_000)}`])] },
  { name: 'a 100 KB header value', parts: [get('/healthz', [`x-keel-user: ${'a'.repeat(100_000)}`])] },
  {
    name: '3,000 small headers',
    parts: [
      get(
        '/healthz',
        Array.from({ length: 3_000 }, (_, i) => `x-h${i}: 1`),
      ),
    ],
    allow2xx: true,
  },
  {
    name: '10,000 small headers',
    parts: [
      get(
        '/healthz',
        Array.from({ length: 10_000 }, (_, i) => `x-h${i}: 1`),
      ),
    ],
  },
  { name: 'a 20 KB request target', parts: [get(`/admin/traces?text=${'a'.repeat(20_000)}`)] },
  // Header injection attempts.
  {
    name: 'CRLF in x-request-id (becomes its own header)',
    parts: [get('/healthz', ['x-request-id: abc\r\nx-injected: 1'])],
    allow2xx: true,
  },
  {
    name: 'bare LF in x-request-id',
    parts: [get('/healthz', ['x-request-id: abc\nx-injected: 1'])],
    allow2xx: true,
  },
  {
    name: 'bare CR in x-request-id',
    parts: [get('/healthz', ['x-request-id: abc\rx-injected: 1'])],
    allow2xx: true,
  },
  {
    name: 'CRLF CRLF in x-request-id (ends the head: a pipelined request follows)',
    parts: [get('/healthz', ['x-request-id: abc\r\n\r\nGET /healthz HTTP/1.1\r\nx-injected: 1'])],
    allow2xx: true,
    expect: 2,
  },
  {
    name: 'encoded CRLF in x-request-id',
    parts: [get('/healthz', ['x-request-id: abc%0d%0ax-injected:%201'])],
    allow2xx: true,
  },
  { name: 'CRLF in x-keel-user', parts: [post(CHAT, ['x-keel-user: a\r\nx-injected: 1'])], allow2xx: true },
  {
    name: 'bare CR in Content-Type',
    parts: [post(CHAT, ['Content-Type: application/json\rx-injected: 1'])],
    allow2xx: true,
  },
  {
    name: 'unicode line separator in x-request-id',
    parts: [cat(get('/healthz', ['x-request-id: abc']).replace('abc', 'abc\u2028x-injected: 1'))],
    allow2xx: true,
  },
  {
    name: 'CRLF in the path',
    parts: ['GET /healthz\r\nx-injected: 1 HTTP/1.1\r\nHost: a\r\n\r\n'],
    allow2xx: true,
  },
  {
    name: 'x-request-id of 129 plain characters',
    parts: [get('/healthz', [`x-request-id: ${'a'.repeat(129)}`])],
    allow2xx: true,
  },
  // Request lines.
  { name: 'HTTP/2 connection preface', parts: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'] },
  { name: 'unknown HTTP version 3.1', parts: ['GET /healthz HTTP/3.1\r\nHost: a\r\n\r\n'] },
  { name: 'lower-case method', parts: ['get /healthz HTTP/1.1\r\nHost: a\r\n\r\n'] },
  { name: 'unknown method', parts: ['BREW /healthz HTTP/1.1\r\nHost: a\r\n\r\n'] },
  { name: 'CONNECT', parts: ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'] },
  { name: 'request line only, no headers end', parts: ['GET /healthz HTTP/1.1\r\n'] },
  { name: 'empty lines then garbage', parts: ['\r\n\r\n\r\nxyz\r\n\r\n'] },
  {
    name: 'TLS ClientHello on the plain port',
    parts: [bytes(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03)],
  },
  { name: 'random bytes', parts: [Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))] },
  // Pipelining (legitimate) and oversized bodies.
  {
    name: 'two pipelined requests in one write',
    parts: [
      `GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    ],
    allow2xx: true,
    expect: 2,
  },
  {
    name: 'a 10 MB body (over the 1 MB limit) with Content-Length',
    parts: [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`,
      Buffer.alloc(10 * 1024 * 1024, 0x20),
    ],
    totalMs: 10_000,
  },
  {
    name: 'a 10 MB chunked body (over the limit)',
    parts: [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      ...Array.from({ length: 10 }, () => cat(`100000\r\n`, Buffer.alloc(0x100000, 0x20), '\r\n')),
      '0\r\n\r\n',
    ],
    totalMs: 10_000,
  },
  { name: 'Expect: 100-continue with a bad body', parts: [post('{bad', ['Expect: 100-continue'])] },
  { name: 'unknown Expect', parts: [post(CHAT, ['Expect: 200-ok'])] },
];

// ------------------------------------------------------------------------------------------------
// Generated variants
// ------------------------------------------------------------------------------------------------

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

const methodArb = fc.constantFrom(
  'GET',
  'POST',
  'POST',
  'POST',
  'PUT',
  'HEAD',
  'OPTIONS',
  'DELETE',
  'get',
  'P OST',
  '',
  'POST\0',
  'TRACE',
);
const targetArb = fc.oneof(
  fc.constantFrom(
    '/v1/chat/completions',
    '/v1/chat/completions',
    '/v1/embeddings',
    '/healthz',
    '/readyz',
    '/v1/models',
    '/admin/traces?limit=2',
    '/admin/stats?window=1h',
    '/metrics',
    '*',
    'http://x/healthz',
    '//',
    '/%',
    '/%00',
    '/a b',
    '/\x7f',
    '',
    '/v1/chat/completions?x=\r\n',
  ),
  fc.uint8Array({ maxLength: 24 }).map((b) => `/${latin1(b)}`),
);
const versionArb = fc.constantFrom(
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/0.9',
  'HTTP/2.0',
  'HTTP/1.10',
  'http/1.1',
  'HTTP/1.1 ',
  '',
);
const headerNameArb = fc.oneof(
  fc.constantFrom(
    'Host',
    'Content-Type',
    'Content-Length',
    'Transfer-Encoding',
    'Authorization',
    'x-request-id',
    'x-keel-user',
    'x-keel-session',
    'x-keel-feature',
    'Connection',
    'Expect',
    'Cookie',
    'Content-Encoding',
    'Accept',
    'Upgrade',
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,19}$/),
  fc.constantFrom('Bad Name', 'x:y', '', 'x\0', '\u00fcber', 'Content-Length ', ' Host'),
);
const headerValueArb = fc.oneof(
  fc.constantFrom(
    'application/json',
    'text/plain',
    'chunked',
    'close',
    'keep-alive',
    '0',
    '-1',
    '10',
    '99999999999999999999',
    'Bearer x',
    '100-continue',
    'gzip',
    'identity',
    '',
    'websocket',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.uint8Array({ maxLength: 20 }).map(latin1),
  fc.constantFrom(
    'a\r\nx-injected: 1',
    'a\nx-injected: 1',
    'a\rx-injected: 1',
    'a\r\n\r\nGET /healthz HTTP/1.1\r\nx-injected: 1',
    'a\r\n x-injected: 1',
  ),
);
const bodyArb = fc.oneof(
  fc.constant(CHAT),
  fc.constant(CHAT.replace('"hi"', '"hi"}],"stream":true,"x":[{"a":1')),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 200 }).map(latin1),
  fc.constant(''),
  fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n)),
);
const framingArb = fc.constantFrom(
  'length',
  'length',
  'short',
  'long',
  'chunked',
  'bad-chunked',
  'both',
  'none',
);

const generated = fc
  .record({
    method: methodArb,
    target: targetArb,
    version: versionArb,
    host: fc.boolean(),
    headers: fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 6 }),
    body: bodyArb,
    framing: framingArb,
    split: fc.array(fc.nat(), { maxLength: 3 }),
    pauseMs: fc.integer({ min: 0, max: 40 }),
  })
  .map((g): Case => {
    const body = Buffer.from(g.body, 'latin1');
    const framing: string[] = [];
    let payload: Buffer = body;
    if (g.framing === 'length') framing.push(`Content-Length: ${body.length}`);
    else if (g.framing === 'short') framing.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
    else if (g.framing === 'long') framing.push(`Content-Length: ${body.length + 7}`);
    else if (g.framing === 'chunked' || g.framing === 'both' || g.framing === 'bad-chunked') {
      framing.push('Transfer-Encoding: chunked');
      if (g.framing === 'both') framing.push(`Content-Length: ${body.length}`);
      const size = g.framing === 'bad-chunked' ? (body.length + 5).toString(16) : body.length.toString(16);
      payload = cat(body.length > 0 ? cat(`${size}\r\n`, body, '\r\n') : '', '0\r\n\r\n');
    }
    const head = [
      `${g.method} ${g.target} ${g.version}`.trimEnd(),
      ...(g.host ? ['Host: 127.0.0.1'] : []),
      ...g.headers.map(([n, v]) => `${n}: ${v}`),
      ...framing,
      '',
      '',
    ].join('\r\n');
    const all = cat(head, payload);
    const cuts = [...new Set(g.split.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
    const parts: Part[] = [];
    let at = 0;
    for (const cut of cuts) {
      parts.push(all.subarray(at, cut), { pauseMs: g.pauseMs });
      at = cut;
    }
    parts.push(all.subarray(at));
    return { name: 'generated', parts, allow2xx: true, head: g.method === 'HEAD' };
  });

// ------------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------------

describe('fuzz: malformed HTTP over raw TCP gets a well-formed 4xx or a closed connection', () => {
  test(`${CASES.length} named cases`, async () => {
    const problems: string[] = [];
    // A few at a time: they are independent connections.
    for (let i = 0; i < CASES.length; i += 6) {
      const batch = await Promise.all(CASES.slice(i, i + 6).map(run));
      problems.push(...batch.filter((p): p is string => p !== undefined));
    }
    console.log(`fuzz: http named cases: ${CASES.length} inputs, ${problems.length} failures`);
    assert.deepEqual(problems, []);
    assert.equal((await send(gateway!.url, '/healthz')).status, 200);
  });

  test('generated requests: random methods, targets, versions, headers, bytes, framing and splits', async () => {
    let tried = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(generated, { minLength: 8, maxLength: 8 }), async (batch) => {
          tried += batch.length;
          const results = await Promise.all(batch.map(run));
          const problem = results.find((p) => p !== undefined);
          if (problem) throw new Error(problem);
        }),
        fcParams(40),
      );
    } finally {
      console.log(`fuzz: http generated: ${tried} inputs, ${failures.length} failures so far`);
      for (const f of failures.slice(0, 3)) console.log(`fuzz:   failure: ${f.slice(0, 800)}`);
    }
    assert.equal((await send(gateway!.url, '/healthz')).status, 200);
  });

  test('slow-loris clients do not keep others from being served', async () => {
    const { connect } = await import('node:net');
    const slow: Array<import('node:net').Socket> = [];
    let closedByServer = 0;
    const opened = Array.from({ length: 40 }, (_, i) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.on('error', () => {});
      s.on('close', () => {
        closedByServer++;
      });
      // Half of them dribble headers, half dribble a body after complete headers.
      s.write(
        i % 2 === 0
          ? 'POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n'
          : `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n{`,
      );
      slow.push(s);
      return s;
    });
    const dribble = setInterval(() => {
      for (const [i, s] of opened.entries()) if (!s.destroyed) s.write(i % 2 === 0 ? 'x-a: b\r\n' : ' ');
    }, 200);
    const latencies: number[] = [];
    try {
      const started = Date.now();
      // About 4 s of ordinary traffic while the slow clients hold their connections.
      while (Date.now() - started < 4_000) {
        const t0 = performance.now();
        const a = await send(gateway!.url, '/v1/chat/completions', { body: CHAT });
        latencies.push(performance.now() - t0);
        inputs++;
        assert.equal(a.status, 200, a.text.slice(0, 200));
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      clearInterval(dribble);
    }
    const stillOpen = slow.filter((s) => !s.destroyed).length;
    for (const s of slow) s.destroy();
    latencies.sort((a, b) => a - b);
    const worst = latencies.at(-1) ?? 0;
    console.log(
      `fuzz: slow-loris: ${opened.length} slow connections (${stillOpen} still open after 4 s, ${closedByServer} closed by the server); ` +
        `${latencies.length} ordinary requests served meanwhile, worst ${worst.toFixed(0)} ms`,
    );
    assert.ok(latencies.length >= 20, 'ordinary clients were served while slow clients were connected');
    assert.ok(worst < 1_000, `an ordinary request waited ${worst.toFixed(0)} ms`);
  });

  test('a slow client that stops sending is closed once it half-closes', async () => {
    const ex = await exchange(
      port,
      [
        `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n{"mo`,
      ],
      {
        totalMs: 5_000,
        silenceMs: 1_000,
      },
    );
    inputs++;
    assert.ok(!ex.timedOut, 'closed within the time limit');
    assert.ok(ex.halfClosed && ex.closedByServer, JSON.stringify(ex));
    assert.ok(ex.responses.every((r) => r.status < 500));
  });
});
