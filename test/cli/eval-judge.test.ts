/**
 * Judged and semantic scorers through the gateway: `--judge-route` is a route whose mock model returns
 * scripted verdicts (a malformed one first, then a valid one, or never a valid one), and
 * `--embed-route` a route to a small embeddings server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.ts';
import { gatewayFromYaml } from '../helpers/gateway.ts';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.ts';
import { keelEval, roleText } from './eval-cli.ts';

const CASES = 10;
/** Case 3's answer is one the judge never grades in valid JSON. */
const HOPELESS = 3;

/** A vector per text: letter counts, so equal texts embed equally and different ones less so. */
function letterVector(text: string): number[] {
  const v = new Array<number>(26).fill(0);
  for (const ch of text.toLowerCase()) {
    const i = ch.charCodeAt(0) - 97;
    if (i >= 0 && i < 26) v[i]! += 1;
  }
  return v;
}

async function startEmbeddings(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const { input } = JSON.parse(raw) as { input: string[] };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          model: 'embed',
          data: input.map((text, index) => ({ object: 'embedding', index, embedding: letterVector(text) })),
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('keel eval run: judge and embed routes', () => {
  let model: MockUpstream;
  let judge: MockUpstream;
  let embeddings: { url: string; close(): Promise<void> };
  let gw: Gateway;
  let dir: string;

  before(async () => {
    model = await startMockUpstream((_n, body) => {
      const n = Number(/question (\d+)/.exec(roleText(body, 'user'))?.[1]);
      return {
        kind: 'ok',
        text: n === HOPELESS ? 'a hopeless answer' : `The answer to question ${n} is ${n * 2}.`,
      };
    });
    judge = await startMockUpstream((_n, body) => {
      const asked = roleText(body, 'user');
      // A first attempt gets a malformed verdict: prose for even cases, an out-of-range score for odd ones.
      if (asked.includes('hopeless')) return { kind: 'ok', text: 'I would say four out of five.' };
      const n = Number(/question (\d+)/.exec(asked)?.[1]);
      const corrected = asked.includes('Your reply could not be used');
      if (!corrected)
        return {
          kind: 'ok',
          text: n % 2 === 0 ? 'Looks good to me: 5/5' : '{"score": 9, "reason": "excellent"}',
        };
      return { kind: 'ok', text: JSON.stringify({ score: n < 5 ? 5 : 3, reason: 'checked' }) };
    });
    embeddings = await startEmbeddings();
    gw = await gatewayFromYaml(`
providers:
  up: { type: openai, baseUrl: "${model.url}" }
  judge: { type: openai, baseUrl: "${judge.url}" }
  emb: { type: openai, baseUrl: "${embeddings.url}" }
models:
  m: { provider: up, model: m }
  grader: { provider: judge, model: grader }
  embedder: { provider: emb, model: embedder }
routes:
  main: { targets: [{ model: m, retry: { max: 0 } }] }
  judge: { targets: [{ model: grader, retry: { max: 0 } }] }
  embed: { targets: [{ model: embedder, retry: { max: 0 } }] }
`);
    dir = mkdtempSync(join(tmpdir(), 'keel-eval-judge-'));
    const lines = Array.from({ length: CASES }, (_, n) =>
      JSON.stringify({
        id: `j${n}`,
        input: { messages: [{ role: 'user', content: `What is question ${n}?` }] },
        expected: `The answer to question ${n} is ${n * 2}.`,
      }),
    );
    writeFileSync(join(dir, 'qa.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'rubric.txt'), '5: correct and complete, with the number. 1: wrong or evasive.');
    const added = await keelEval(
      'dataset',
      'add',
      'judged',
      join(dir, 'qa.jsonl'),
      '--root',
      join(dir, 'ds'),
    );
    assert.equal(added.code, 0, added.err);
  });

  after(async () => {
    await gw.close();
    await model.close();
    await judge.close();
    await embeddings.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a malformed verdict is corrected; one never valid is an error, counted, not a zero', async () => {
    const result = await keelEval(
      'run',
      '--dataset',
      'judged',
      '--root',
      join(dir, 'ds'),
      '--target',
      'route:main',
      '--scorers',
      `rubric=${join(dir, 'rubric.txt')},similarity=0.99`,
      '--judge-route',
      'judge',
      '--embed-route',
      'embed',
      '--min',
      'rubric=0.8',
      '--run-dir',
      join(dir, 'run'),
      '--url',
      gw.url,
      '--no-progress',
    );
    console.log(result.out);
    const results = readFileSync(join(dir, 'run', 'results.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            caseId: string;
            scores: Record<string, { value?: number; error?: string; detail?: string }>;
          },
      );
    const rubric = new Map(results.map((r) => [r.caseId, r.scores.rubric!]));
    assert.equal(rubric.get('j0')?.value, 1);
    assert.equal(rubric.get('j0')?.detail, '5/5: checked');
    assert.equal(rubric.get('j7')?.value, 0.5);
    assert.match(
      rubric.get(`j${HOPELESS}`)?.error ?? '',
      /^rubric: judge gave no valid JSON after 3 attempts \(last problem: it is not valid JSON\)/,
    );
    // Similarity: the answers equal the expected text except the hopeless one.
    const similarity = new Map(results.map((r) => [r.caseId, r.scores.similarity!]));
    assert.equal(similarity.get('j1')?.value, 1);
    assert.ok((similarity.get(`j${HOPELESS}`)?.value ?? 1) < 0.9);

    // rubric mean over the 9 scored cases: (4 × 1 + 5 × 0.5) / 9 = 0.722 < 0.8: the threshold fails.
    assert.equal(result.code, 1, result.err);
    const row = result.out.split('\n').find((line) => line.startsWith('rubric '))!;
    assert.deepEqual(row.split(/\s{2,}/), ['rubric', '–', '0.722', '–', '–', '9', '1', '0.800', 'FAIL']);
    assert.match(result.out, /rubric: mean 0\.722 < threshold 0\.800/);

    // The judge was asked at temperature 0; a malformed reply was answered with the problem named.
    const sent = judge.received.map((r) => r.body);
    assert.ok(sent.every((b) => b.temperature === 0));
    const corrections = sent
      .map((b) => roleText(b, 'user'))
      .filter((t) => t.includes('Your reply could not be used'));
    assert.ok(corrections.some((t) => t.includes('it is not valid JSON')));
    assert.ok(corrections.some((t) => t.includes('score: Too big: expected number to be <=5')));
    // 9 cases × 2 calls, and 3 calls for the hopeless one.
    assert.equal(sent.length, (CASES - 1) * 2 + 3);
  });
});
