/**
 * Measures how much acknowledged traffic a kill -9 loses: a child records traces at a steady rate
 * (scripts/crash-loss-child.ts), the parent counts the ids it acknowledged, kills it with SIGKILL,
 * then counts what reached the SQLite file. Then the graceful path: SIGTERM → drain → nothing lost.
 *
 * Usage: node --import tsx scripts/crash-loss.ts [--runs 3] [--seconds 3] [--rate 2000] [--flush-ms 200]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '2000' },
    'flush-ms': { type: 'string', default: '200' },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const flushMs = Number(values['flush-ms']);
const childScript = fileURLToPath(new URL('./crash-loss-child.ts', import.meta.url));

interface Result {
  acknowledged: number;
  stored: number;
  lost: number;
  elapsedMs: number;
  exit: string;
}

async function run(signal: 'SIGKILL' | 'SIGTERM'): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-crash-loss-'));
  const path = join(dir, 'keel.db');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, path, String(rate), String(flushMs)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acked: string[] = [];
    let partial = '';
    let firstAt = 0;
    let stderr = '';
    let killedAt = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      acked.push(...lines);
      if (firstAt === 0 && acked.length > 0) {
        firstAt = performance.now();
        setTimeout(() => {
          killedAt = performance.now();
          child.kill(signal);
        }, seconds * 1000);
      }
    });
    const exit = await new Promise<string>((resolve) => {
      child.on('close', (code, sig) => resolve(sig ?? `exit ${code}`));
    });
    if (killedAt === 0) throw new Error(`child ended before it was signalled: ${exit}\n${stderr}`);
    if (signal === 'SIGTERM' && exit !== 'exit 0')
      throw new Error(`graceful child exited with ${exit}\n${stderr}`);
    // Opening the file replays the WAL the killed process left behind, as the next Keel start would.
    const db = new Database(path);
    const stored = new Set(
      db
        .prepare<[], { id: string }>('SELECT id FROM traces')
        .all()
        .map((r) => r.id),
    );
    db.close();
    const lost = acked.filter((id) => !stored.has(id)).length;
    return { acknowledged: acked.length, stored: stored.size, lost, elapsedMs: killedAt - firstAt, exit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (lost: number) => ((lost / rate) * 1000).toFixed(1);
let failed = false;
for (let i = 1; i <= runs; i++) {
  const r = await run('SIGKILL');
  console.log(
    `kill -9 run ${i}: acknowledged=${r.acknowledged} stored=${r.stored} lost=${r.lost} ` +
      `(= ${ms(r.lost)} ms of traffic at ${rate}/s; flush window ${flushMs} ms; ran ${(r.elapsedMs / 1000).toFixed(2)} s)`,
  );
}
const g = await run('SIGTERM');
console.log(
  `graceful SIGTERM: acknowledged=${g.acknowledged} stored=${g.stored} lost=${g.lost} ` +
    `(= ${ms(g.lost)} ms of traffic; child ${g.exit})`,
);
if (g.lost !== 0) failed = true;
process.exitCode = failed ? 1 : 0;
