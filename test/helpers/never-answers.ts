import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An upstream handler that takes a request and never answers: `requestArrived` resolves when a request
 * is in, `connectionClosed` when its connection closes (what a cancelled call must cause).
 */
export function neverAnswers() {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    res.on('close', () => closed());
    arrived();
  };
  return { handler, requestArrived, connectionClosed };
}

/** The call rejects with exactly `reason` (the abort reason is passed through, not wrapped). */
export async function rejectsWith(call: Promise<unknown>, reason: unknown): Promise<void> {
  let caught: unknown;
  try {
    await call;
  } catch (err) {
    caught = err;
  }
  if (caught !== reason)
    throw new Error(`expected the call to reject with the abort reason, got ${String(caught)}`);
}
