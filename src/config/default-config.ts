/**
 * The config `npm start` runs when no --config is given: no API keys needed. "primary" is a realistic
 * flaky model (errors, 429s, the odd hang and cut stream); "backup" is steady. The `chat` route falls
 * back from one to the other. The `support-reply` feature answers once its prompt is pushed, with a 10%
 * canary and a 20% shadow of the `staging` label.
 */
export const DEFAULT_CONFIG_YAML = `
server:
  host: 127.0.0.1
  port: 8080

providers:
  sim:
    type: simulated

models:
  primary:
    provider: sim
    model: sim-primary-1
    pricing: { inputPerMTok: 2.5, outputPerMTok: 10 }
    contextWindow: 128000
    simulate:
      ttftMs: { p50: 180, p99: 900 }
      tokensPerSecond: 90
      faults:
        errorRate: 0.08
        errorStatuses: [500, 502, 503]
        rateLimitRate: 0.04
        retryAfterMs: 500
        hangRate: 0.02
        malformedRate: 0.02
        cutStreamRate: 0.03
        cutAfterChunks: 4
  backup:
    provider: sim
    model: sim-backup-1
    pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
    contextWindow: 128000
    simulate:
      ttftMs: { p50: 120, p99: 300 }
      tokensPerSecond: 150

routes:
  chat:
    description: flaky primary with a steady backup
    deadlineMs: 20000
    hedgeAfterMs: 2500
    retryBudget: 2
    targets:
      - model: primary
        timeoutMs: 8000
        firstTokenTimeoutMs: 3000
        stallTimeoutMs: 3000
        retry: { max: 1, baseDelayMs: 50, maxDelayMs: 500 }
      - model: backup
        timeoutMs: 10000
        stallTimeoutMs: 5000
        retry: { max: 2, baseDelayMs: 50, maxDelayMs: 500 }
  embed:
    description: embeddings from the simulated backup
    targets:
      - model: backup

features:
  support-reply:
    description: first answer to a support ticket (keel prompts push examples/prompts/support-reply.yaml)
    owner: support-team
    prompt: { name: support-reply, label: production }
    route: chat
    contract: text
    guards:
      input:
        - { type: pii, action: redact }
        - { type: injection, action: block }
    release:
      canary: { percent: 10, by: user }
      shadow: { percent: 20, label: staging }
    evals:
      maxLatencyMs: 8000
      length: { min: 1, max: 4000 }
`;
