import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the mock upstream does with one request. */
export type Behaviour =
  | { kind: 'ok'; text?: string; delayMs?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'garbage' }
  | { kind: 'cut'; afterChunks: number }
  | { kind: 'stall'; afterChunks: number };

export interface Received {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** The client (Keel) closed the connection before the answer was complete. */
  closedEarly: boolean;
}

export interface MockUpstream {
  url: string;
  /** Requests received so far. */
  received: Received[];
  /** Connections closed by the client before an answer (aborted upstream calls). */
  aborted: number;
  close(): Promise<void>;
}

function completion(model: string, text: string) {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  };
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-mock',
    object: 'chat.completion.chunk',
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

/**
 * A real OpenAI-shaped HTTP server on loopback, scripted per request: `script(n, body)` decides what
 * the n-th request (0-based) gets.
 */
export async function startMockUpstream(
  script: (n: number, body: Record<string, unknown>) => Behaviour,
  options: { name?: string } = {},
): Promise<MockUpstream> {
  const name = options.name ?? 'mock-model';
  const state: MockUpstream = { url: '', received: [], aborted: 0, close: async () => {} };
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      raw += d;
    });
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const n = state.received.length;
      const received: Received = { body, headers: req.headers, closedEarly: false };
      state.received.push(received);
      res.on('close', () => {
        if (!res.writableFinished) {
          state.aborted++;
          received.closedEarly = true;
        }
      });
      const behaviour = script(n, body);
      const model = String(body.model ?? name);
      const stream = body.stream === true;
      switch (behaviour.kind) {
        case 'hang':
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
          res.end(stream ? 'data: {not json at all\n\n' : '<html>502 Bad Gateway</html>');
          return;
        case 'status':
          res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
          res.end(
            behaviour.body ??
              JSON.stringify({ error: { message: `mock ${behaviour.status}`, type: 'server_error' } }),
          );
          return;
        case 'ok': {
          const text = behaviour.text ?? `answer from ${name}`;
          const send = () => {
            if (!stream) {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify(completion(model, text)));
              return;
            }
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.write(chunk(model, { role: 'assistant', content: '' }));
            for (const word of text.split(' ')) res.write(chunk(model, { content: `${word} ` }));
            res.write(chunk(model, {}, 'stop'));
            res.end('data: [DONE]\n\n');
          };
          if (behaviour.delayMs) setTimeout(send, behaviour.delayMs);
          else send();
          return;
        }
        case 'cut':
        case 'stall': {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          // afterChunks < 0: not even the role chunk.
          if (behaviour.afterChunks >= 0) res.write(chunk(model, { role: 'assistant', content: '' }));
          for (let i = 0; i < behaviour.afterChunks; i++) res.write(chunk(model, { content: `part${i} ` }));
          // Let the chunks reach the client before the connection drops.
          if (behaviour.kind === 'cut') setTimeout(() => res.socket?.destroy(), 30);
          return;
        }
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return state;
}

/** Poll until `condition` holds or `ms` pass; returns whether it held. For effects in other sockets. */
export async function waitFor(condition: () => boolean, ms = 1000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return condition();
}
