/**
 * Raw HTTP/1.1 over TCP for the malformed-HTTP fuzzer: write exact bytes (in parts, with pauses), read
 * whatever comes back, and parse it strictly, without any HTTP client's leniency. Not a test file.
 */
import { connect } from 'node:net';

export interface ParsedResponse {
  status: number;
  statusLine: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** False when the connection ended before the whole body arrived. */
  complete: boolean;
}

export interface Exchange {
  responses: ParsedResponse[];
  /** Set when the bytes received are not HTTP/1.x responses; says where they stop making sense. */
  malformed?: string;
  /** The server ended or reset the connection. */
  closedByServer: boolean;
  /** We half-closed (sent FIN) after the server stayed silent, as a client that gives up would. */
  halfClosed: boolean;
  /** Nothing decided the exchange within the time limit: a hang. */
  timedOut: boolean;
  /** Errors writing (the server may close before reading everything: EPIPE/ECONNRESET are normal). */
  writeError?: string;
  ms: number;
  received: number;
}

export type Part = Buffer | string | { pauseMs: number };

export interface ExchangeOptions {
  /** Give up (hang) after this long in total. */
  totalMs?: number;
  /** After the last write, silence this long with no complete response makes us half-close. */
  silenceMs?: number;
  /** Responses to wait for before calling a keep-alive exchange done (default 1). */
  expect?: number;
  /** The (first) request is a HEAD: its response has no body whatever its Content-Length says. */
  head?: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parse as many HTTP/1.x responses as `buf` holds. `closed`: the stream ended (bodies may run to
 * close). `headFirst`: the first request was HEAD, so its final response has no body.
 */
export function parseResponses(
  buf: Buffer,
  closed: boolean,
  headFirst = false,
): { responses: ParsedResponse[]; malformed?: string } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) {
      if (closed)
        return {
          responses,
          malformed: `incomplete head: ${JSON.stringify(buf.subarray(at, at + 120).toString('latin1'))}`,
        };
      return { responses };
    }
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(statusLine);
    if (!m) return { responses, malformed: `bad status line ${JSON.stringify(statusLine.slice(0, 120))}` };
    const status = Number(m[1]);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name) || /[\r\n\0]/.test(line)) {
        return { responses, malformed: `bad header line ${JSON.stringify(line.slice(0, 120))}` };
      }
      headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
    }
    at = end + 4;
    const header = (n: string) => headers.find(([k]) => k === n)?.[1];
    const isHead = headFirst && responses.every((r) => r.status < 200) && status >= 200;
    if (status < 200 || status === 204 || status === 304 || isHead) {
      responses.push({ status, statusLine, headers, body: Buffer.alloc(0), complete: true });
      continue;
    }
    const te = header('transfer-encoding');
    const cl = header('content-length');
    if (te !== undefined && /chunked/i.test(te)) {
      const parts: Buffer[] = [];
      let p = at;
      let done = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = Number.parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size) || size < 0)
          return { responses, malformed: 'bad chunk size in a response' };
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd === lineEnd) p = lineEnd + 4;
          else if (buf.subarray(lineEnd + 2, lineEnd + 4).toString() === '\r\n') p = lineEnd + 4;
          else if (trailerEnd >= 0) p = trailerEnd + 4;
          else break;
          done = true;
          break;
        }
        if (lineEnd + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      responses.push({ status, statusLine, headers, body: Buffer.concat(parts), complete: done });
      if (!done) return { responses };
      at = p;
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) return { responses, malformed: `bad content-length ${cl}` };
      const n = Number(cl);
      const complete = at + n <= buf.length;
      responses.push({
        status,
        statusLine,
        headers,
        body: buf.subarray(at, Math.min(buf.length, at + n)),
        complete,
      });
      if (!complete) return { responses };
      at += n;
    } else {
      // Body runs to the end of the connection.
      responses.push({ status, statusLine, headers, body: buf.subarray(at), complete: closed });
      return { responses };
    }
  }
  return { responses };
}

/** Write `parts` to a fresh connection and collect the answer. Never throws; never waits past totalMs. */
export function exchange(port: number, parts: Part[], options: ExchangeOptions = {}): Promise<Exchange> {
  const totalMs = options.totalMs ?? 5_000;
  const silenceMs = options.silenceMs ?? 400;
  const expect = options.expect ?? 1;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let received = 0;
    let writing = true;
    let halfClosed = false;
    let writeError: string | undefined;
    let settled = false;
    let silenceTimer: NodeJS.Timeout | undefined;

    const finish = (closedByServer: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(silenceTimer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      let parsed = parseResponses(all, closedByServer, options.head === true);
      // Fastify's raw clientError answer (400/431) carries a body even for HEAD: read it that way too.
      if (parsed.malformed && options.head === true) {
        const asGet = parseResponses(all, closedByServer, false);
        if (!asGet.malformed) parsed = asGet;
      }
      resolve({
        responses: parsed.responses,
        ...(parsed.malformed ? { malformed: parsed.malformed } : {}),
        closedByServer,
        halfClosed,
        timedOut,
        ...(writeError ? { writeError } : {}),
        ms: performance.now() - started,
        received,
      });
    };
    const total = setTimeout(() => finish(false, true), totalMs);

    /** After the writes: done once enough complete responses came and the line went quiet. */
    const armSilence = () => {
      clearTimeout(silenceTimer);
      if (writing || settled) return;
      silenceTimer = setTimeout(() => {
        const { responses } = parseResponses(Buffer.concat(chunks), false, options.head === true);
        const complete = responses.filter((r) => r.complete && r.status >= 200).length;
        if (complete >= expect) finish(false, false);
        else if (!halfClosed) {
          // The server is waiting for bytes that will never come (as HTTP allows): give up like a client.
          halfClosed = true;
          socket.end();
          armSilence();
        }
      }, silenceMs);
    };

    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      armSilence();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (writing) writeError = err.code ?? err.message;
      finish(true, false);
    });
    socket.on('end', () => finish(true, false));
    socket.on('close', () => finish(true, false));

    socket.once('connect', async () => {
      for (const part of parts) {
        if (settled || socket.destroyed) break;
        if (typeof part === 'object' && !Buffer.isBuffer(part)) {
          await new Promise((r) => setTimeout(r, part.pauseMs));
          continue;
        }
        const ok = socket.write(part);
        if (!ok)
          await new Promise<void>((r) => {
            const go = () => {
              socket.off('drain', go);
              socket.off('close', go);
              r();
            };
            socket.on('drain', go);
            socket.on('close', go);
          });
      }
      writing = false;
      armSilence();
    });
  });
}

/** Escape bytes for a failure message. */
export function show(parts: Part[], max = 400): string {
  const text = parts
    .map((p) =>
      typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('latin1') : `<pause ${p.pauseMs} ms>`,
    )
    .join('');
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
}
