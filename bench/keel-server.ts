/**
 * Bench child: Keel itself, via startGateway, on the bench config (bench/lib/keel-config.ts). Runs in
 * its own process so the load generator does not share its event loop, and so its RSS is its own.
 *
 * Usage: node --import tsx bench/keel-server.ts http://127.0.0.1:UPSTREAM_PORT [default|sqlite|memory|none]
 */
import { parseConfig } from '../src/config/load.ts';
import { startGateway } from '../src/server/gateway.ts';
import { benchConfigYaml, TELEMETRY_MODES, type TelemetryMode } from './lib/keel-config.ts';
import { serveChild } from './lib/protocol.ts';

const upstream = process.argv[2];
const telemetry = (process.argv[3] ?? 'default') as TelemetryMode;
if (!upstream || !TELEMETRY_MODES.includes(telemetry)) {
  console.error(`usage: keel-server.ts <upstream origin> [${TELEMETRY_MODES.join('|')}]`);
  process.exit(2);
}

const env = {};
const config = parseConfig(benchConfigYaml(upstream, telemetry), { source: '(bench)', env });
const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger: false, env });
const port = Number(new URL(gateway.url).port);
serveChild(port, () => gateway.close());
