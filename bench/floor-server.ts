/**
 * Bench child: the floor. The least a Node proxy can do: a node:http server that buffers the (small)
 * request body, forwards it with an undici keep-alive Pool, and streams the answer back. No parsing, no
 * validation, no routing: what is left is the cost of one extra HTTP hop in Node.
 *
 * Usage: node --import tsx bench/floor-server.ts http://127.0.0.1:UPSTREAM_PORT
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { serveChild } from './lib/protocol.ts';

const upstream = process.argv[2];
if (!upstream) {
  console.error('usage: floor-server.ts <upstream origin>');
  process.exit(2);
}

// Same pool settings as Keel's provider pool (createPool, src/providers/http.ts), so the hop is like for like.
const pool = new Pool(upstream, {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    // undici's stream() writes the answer straight into `res`: no intermediate Readable, no
    // stream.pipeline (whose per-call AbortController + DOMException cost ~50 µs a request here).
    pool
      .stream(
        {
          method: 'POST',
          path: req.url ?? '/',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body,
        },
        ({ statusCode, headers }) => {
          const out: Record<string, string> = {
            'content-type': String(headers['content-type'] ?? 'application/json'),
          };
          const length = headers['content-length'];
          if (typeof length === 'string') out['content-length'] = length;
          res.writeHead(statusCode, out);
          return res;
        },
      )
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
        res.end();
      });
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveChild(port, async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await pool.close();
  });
});
