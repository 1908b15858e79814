import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReviewPort, ReviewRequest } from '../../src/features/ports.ts';
import { reviewPort } from '../../src/review/feature-port.ts';
import { MemoryReviewStore } from '../../src/review/memory-store.ts';
import type { NewReviewItem } from '../../src/review/store.ts';

test("the pipeline's escalations land in the queue as escalated items, redacted, and export with their version", async () => {
  const store = new MemoryReviewStore();
  const redact = (item: NewReviewItem) =>
    JSON.parse(JSON.stringify(item).replaceAll('ada@example.com', '<EMAIL_1>')) as NewReviewItem;
  const port: ReviewPort = reviewPort(store, { now: () => 42, redact });
  const request: ReviewRequest = {
    feature: 'support',
    requestId: 'req_abc',
    promptVersion: 'a7fe9bb982f5',
    route: 'chat',
    input: { variables: { email: 'ada@example.com' }, messages: [{ role: 'user', content: 'refund?' }] },
    user: 'u1',
    session: 's1',
    reason: 'the answer failed the JSON contract twice',
    lastAnswer: '{"answer":',
    validationErrors: ['not valid JSON'],
  };
  const { id } = await port.enqueue(request, new AbortController().signal);
  assert.deepEqual(await store.get(id), {
    id,
    createdAt: 42,
    status: 'open',
    reason: 'escalated',
    feature: 'support',
    route: 'chat',
    traceId: 'req_abc',
    promptVersion: 'a7fe9bb982f5',
    input: { messages: [{ role: 'user', content: 'refund?' }], variables: { email: '<EMAIL_1>' } },
    output: '{"answer":',
    validation: { reason: 'the answer failed the JSON contract twice', errors: ['not valid JSON'] },
  });
  await store.resolve(id, { answer: { answer: 'Yes, within 30 days.' } }, { who: 'ann', at: 50 });
  assert.deepEqual((await store.exportGolden())[0]?.tags, [
    'escalated',
    'feature:support',
    'route:chat',
    'prompt-version:a7fe9bb982f5',
  ]);
});
