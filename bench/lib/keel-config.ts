/**
 * The keel.yaml the bench runs: one openai-type provider pointing at the fixed-answer upstream, two
 * models on it (primary and backup), and a `bench` route with the whole reliability stack armed:
 * a 2-target chain, one retry per target, per-target timeouts, a route deadline, and the default
 * circuit breaker. Logging off. No gateway key (auth is not part of the reliability stack).
 */
export type TelemetryMode = 'default' | 'sqlite' | 'memory' | 'none';
export const TELEMETRY_MODES: TelemetryMode[] = ['default', 'sqlite', 'memory', 'none'];

/**
 * `telemetry`: 'default' leaves the section out, so Keel's own default trace store runs (what a user
 * gets; relative paths land in the child's working directory, a temporary directory); the others
 * pick a store explicitly.
 */
export function benchConfigYaml(upstreamOrigin: string, telemetry: TelemetryMode = 'default'): string {
  const telemetrySection =
    telemetry === 'default'
      ? ''
      : `
telemetry:
  store: { type: ${telemetry} }
`;
  return `${telemetrySection}
server:
  host: 127.0.0.1
  port: 0
  logLevel: silent

providers:
  upstream:
    type: openai
    baseUrl: ${upstreamOrigin}/v1

models:
  primary:
    provider: upstream
    model: bench-primary-1
  backup:
    provider: upstream
    model: bench-backup-1

routes:
  bench:
    description: 2-target chain, retries, timeouts, deadline, breaker
    deadlineMs: 20000
    retryBudget: 2
    targets:
      - model: primary
        timeoutMs: 8000
        retry: { max: 1, baseDelayMs: 50, maxDelayMs: 500 }
      - model: backup
        timeoutMs: 10000
        retry: { max: 1, baseDelayMs: 50, maxDelayMs: 500 }
`;
}
