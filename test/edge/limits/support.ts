import { seededRandom } from '../../../src/core/random.ts';
import type {
  BucketState,
  LedgerResult,
  LimitStore,
  RateRule,
  TakeResult,
} from '../../../src/edge/limits/state.ts';

/** A small seeded PRNG, so concurrency tests are reproducible. */
export const rng = seededRandom;

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Wraps a store so every call waits a random number of event-loop turns before and after the atomic
 * operation, as a network round trip would: concurrent admissions interleave in every order.
 */
export class JitteryStore implements LimitStore {
  calls = 0;
  constructor(
    private readonly inner: LimitStore,
    private readonly random: () => number,
    private readonly maxTicks = 3,
  ) {}

  private async around<T>(op: () => Promise<T>): Promise<T> {
    this.calls++;
    await ticks(Math.floor(this.random() * (this.maxTicks + 1)));
    const result = await op();
    await ticks(Math.floor(this.random() * (this.maxTicks + 1)));
    return result;
  }

  take(bucket: string, cost: number, rule: RateRule): Promise<TakeResult> {
    return this.around(() => this.inner.take(bucket, cost, rule));
  }
  refund(bucket: string, amount: number, rule: RateRule): Promise<BucketState> {
    return this.around(() => this.inner.refund(bucket, amount, rule));
  }
  charge(bucket: string, amount: number, rule: RateRule): Promise<BucketState> {
    return this.around(() => this.inner.charge(bucket, amount, rule));
  }
  reserve(ledger: string, amountUsd: number, limitUsd: number, periodEndsAt: number): Promise<LedgerResult> {
    return this.around(() => this.inner.reserve(ledger, amountUsd, limitUsd, periodEndsAt));
  }
  settle(
    ledger: string,
    reservedUsd: number,
    actualUsd: number,
    periodEndsAt: number,
  ): Promise<LedgerResult> {
    return this.around(() => this.inner.settle(ledger, reservedUsd, actualUsd, periodEndsAt));
  }
}
