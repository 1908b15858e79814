/**
 * Bench child: the fixed-answer upstream. A bare node:http server that answers
 * POST /v1/chat/completions with one precomputed chat.completion (with usage); as cheap as Node allows.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveChild } from './lib/protocol.ts';

const ANSWER = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'bench-upstream-1',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'OK', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
    system_fingerprint: 'fp_bench',
  }),
);
const HEADERS = { 'content-type': 'application/json', 'content-length': String(ANSWER.length) };

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url?.startsWith('/v1/chat/completions')) {
    req.on('end', () => {
      res.writeHead(200, HEADERS);
      res.end(ANSWER);
    });
    req.resume();
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-length': '0' });
  res.end();
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveChild(
    port,
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
});
