import { parseConfig } from '../../src/config/load.ts';
import { type Gateway, startGateway } from '../../src/server/gateway.ts';
import type { Trace } from '../../src/telemetry/trace.ts';

/** Start Keel on a free loopback port from a YAML config text. */
export function gatewayFromYaml(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Gateway> {
  // Tests keep traces and control state in memory unless they say otherwise: no test writes .keel/.
  let text = /^telemetry:/m.test(yaml) ? yaml : `${yaml}\ntelemetry: { store: { type: memory } }\n`;
  text = /^control:/m.test(text) ? text : `${text}\ncontrol: { store: { type: memory } }\n`;
  const config = parseConfig(text, { env });
  return startGateway({ config, port: 0, env, logger: false });
}

/** A two-model config over one OpenAI-compatible upstream per model. */
export function twoTargetYaml(
  primaryUrl: string,
  backupUrl: string,
  options: { route?: string; extra?: string; primary?: string; backup?: string; breaker?: string } = {},
): string {
  return `
breaker: ${options.breaker ?? '{ failureRate: 0.5, window: 10, minCalls: 4, openMs: 300 }'}
providers:
  up1: { type: openai, baseUrl: "${primaryUrl}" }
  up2: { type: openai, baseUrl: "${backupUrl}" }
models:
  primary: { provider: up1, model: primary-model }
  backup: { provider: up2, model: backup-model }
routes:
  chat:
    deadlineMs: 3000
    retryBudget: 2
${options.route ?? ''}
    targets:
      - model: primary
        timeoutMs: 400
        firstTokenTimeoutMs: 300
        stallTimeoutMs: 300
        ${options.primary ?? 'retry: { max: 0 }'}
      - model: backup
        timeoutMs: 1000
        ${options.backup ?? 'retry: { max: 0 }'}
${options.extra ?? ''}
`;
}

/**
 * A request's trace, once stored. The server records it after it has finished the answer, which may be
 * just after the client has it: drain and look again, for up to a second.
 */
export async function waitForTrace(gateway: Gateway, id: string): Promise<Trace> {
  for (let i = 0; i < 50; i++) {
    await gateway.telemetry.recorder.drain();
    const res = await fetch(`${gateway.url}/admin/traces/${id}`);
    if (res.status === 200) return (await res.json()) as Trace;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`trace ${id} was never stored`);
}
