/**
 * The soak gateway's keel.yaml: simulated models with every fault (errors, 429s, hangs, malformed
 * bodies, cut streams), a two-target route with retries and fallback, a hedged route, a single flaky
 * target whose failures reach clients, and a telemetry store that really writes.
 */
export interface SoakConfigOptions {
  store: 'sqlite' | 'memory';
  /** The SQLite file (store: sqlite); put it in a temp dir. */
  dbPath: string;
}

export function soakConfigYaml(options: SoakConfigOptions): string {
  const store =
    options.store === 'sqlite'
      ? `{ type: sqlite, path: ${JSON.stringify(options.dbPath)} }`
      : // Small enough to fill during the warm-up, so a full store is the steady state that is measured.
        '{ type: memory, maxTraces: 200 }';
  return `
server: { host: 127.0.0.1, port: 0, bodyLimitBytes: 1048576, logLevel: warn }
breaker: { failureRate: 0.5, window: 20, minCalls: 10, openMs: 2000 }
telemetry:
  store: ${store}
  queue: { capacity: 5000, flushMs: 200, batchSize: 200 }
  retention: { maxAgeDays: 1, maxRows: 20000 }
  bodies: redact
providers:
  sim: { type: simulated }
models:
  flaky:
    provider: sim
    model: sim-flaky
    pricing: { inputPerMTok: 1, outputPerMTok: 4 }
    simulate:
      ttftMs: { p50: 15, p99: 120 }
      tokensPerSecond: 400
      outputTokens: 16
      faults:
        errorRate: 0.08
        errorStatuses: [500, 502, 503]
        rateLimitRate: 0.05
        retryAfterMs: 100
        hangRate: 0.03
        malformedRate: 0.02
        cutStreamRate: 0.1
        cutAfterChunks: 3
  steady:
    provider: sim
    model: sim-steady
    simulate:
      ttftMs: { p50: 8, p99: 60 }
      tokensPerSecond: 800
      outputTokens: 16
      faults: { errorRate: 0.01 }
routes:
  chat:
    description: two targets, retries and fallback
    deadlineMs: 3000
    retryBudget: 2
    targets:
      - { model: flaky, timeoutMs: 1000, firstTokenTimeoutMs: 400, stallTimeoutMs: 400, retry: { max: 1, baseDelayMs: 10, maxDelayMs: 50 } }
      - { model: steady, timeoutMs: 1500, retry: { max: 1, baseDelayMs: 10, maxDelayMs: 50 } }
  hedged:
    description: hedges to the second target after 60 ms without a first token
    deadlineMs: 3000
    hedgeAfterMs: 60
    targets:
      - { model: flaky, timeoutMs: 1000, retry: { max: 0 } }
      - { model: steady, timeoutMs: 1500, retry: { max: 0 } }
  flaky:
    description: one faulty target, so failures reach the client
    deadlineMs: 1500
    targets:
      - { model: flaky, timeoutMs: 1000, firstTokenTimeoutMs: 400, stallTimeoutMs: 400, retry: { max: 0 } }
`;
}
