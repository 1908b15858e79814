/** Shared pieces of test/telemetry/recorder.test.ts. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TraceWriter } from '../../src/telemetry/recorder.ts';
import type { Trace } from '../../src/telemetry/trace.ts';
import { span, trace } from '../store/fixtures.ts';

export const EMAIL = 'jane.doe@example.com';
export const CARD = '4111 1111 1111 1111';
export const CARD_DIGITS = '4111111111111111';
export const API_KEY = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4';
export const RAW = [EMAIL, CARD, CARD_DIGITS, API_KEY];

export function piiTrace(route: string): Trace {
  const t = trace({
    route,
    outcome: 'error',
    status: 502,
    errorCode: 'KEEL_UPSTREAM_4XX',
    errorMessage: `upstream rejected key ${API_KEY} for ${EMAIL}`,
    decisionPath: [`primary → openai/gpt-4o: KEEL_UPSTREAM_4XX (card ${CARD} declined for ${EMAIL})`],
    request: {
      messages: [{ role: 'user', content: `I am ${EMAIL}, card ${CARD}, my key is ${API_KEY}` }],
      api_key: API_KEY,
    },
    response: { choices: [{ message: { content: `Mailing ${EMAIL} about ${CARD_DIGITS}` } }] },
    spans: [span({ outcome: 'error', errorMessage: `card ${CARD} declined for ${EMAIL}` })],
    slots: { toolOutputs: [{ lookup: `customer ${EMAIL}` }] },
  });
  return t;
}

export const policies = { 'chat-redact': 'redact', 'chat-hash': 'hash', 'chat-drop': 'drop' } as const;
export const bodiesFor = (route: string) => policies[route as keyof typeof policies] ?? 'redact';
export const queue = (over: Partial<{ capacity: number; flushMs: number; batchSize: number }> = {}) => ({
  capacity: 1_000,
  flushMs: 20,
  batchSize: 100,
  ...over,
});

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(2);
  }
}

export function dbBytes(path: string): string {
  return ['', '-wal', '-shm']
    .map((s) => path + s)
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');
}

export function assertNoRaw(haystack: string, where: string) {
  for (const raw of RAW) assert.ok(!haystack.includes(raw), `${raw} found in ${where}`);
}

export class SlowStore implements TraceWriter {
  batches: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly ms: number) {}
  async writeBatch(traces: Trace[]): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await sleep(this.ms);
    this.batches.push(traces.length);
    this.inFlight -= 1;
  }
}
