import { Command, InvalidArgumentError } from 'commander';
import { registerChaosCommands } from '../chaos/cli.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { startGateway } from '../server/gateway.ts';
import { registerControlCommands } from './control.ts';
import { registerEvalCommands } from './eval.ts';
import { registerPromptCommands } from './prompts.ts';
import { registerReleaseCommands } from './release.ts';
import { registerReviewCommands } from './review.ts';
import { registerTraceCommands } from './traces.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

function load(path: string | undefined) {
  try {
    return loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** The `keel` command line. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('keel').description(
    'Keel: the reliability layer for production LLM applications',
  );

  program
    .command('start')
    .description('start the gateway (embedded default config unless --config is given)')
    .option('-c, --config <path>', 'path to keel.yaml')
    .option('-p, --port <port>', 'port to listen on (overrides server.port)', port)
    .option('--host <host>', 'interface to bind (overrides server.host)')
    .action(async (opts: { config?: string; port?: number; host?: string }) => {
      const config = load(opts.config);
      if (opts.host !== undefined) config.server.host = opts.host;
      const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.server.host);
      if (!loopback && !process.env[config.server.apiKeyEnv]) {
        console.error(
          `refusing to bind ${config.server.host}: set ${config.server.apiKeyEnv} to require a gateway key, or bind 127.0.0.1`,
        );
        process.exit(2);
      }
      const gateway = await startGateway({
        config,
        ...(opts.config !== undefined ? { configPath: opts.config } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
      });
      process.on('SIGHUP', () => void gateway.reloader?.reload({ who: 'system:sighup' }));
      const routes = [...gateway.router.routes.keys()].join(', ');
      console.log(`keel listening on ${gateway.url} — routes: ${routes}`);
      console.log(`try: curl ${gateway.url}/v1/chat/completions -H 'content-type: application/json' \\`);
      console.log(
        `  -d '{"model":"${[...gateway.router.routes.keys()][0]}","messages":[{"role":"user","content":"hi"}]}' -i`,
      );
      let closing = false;
      const stop = (signal: string) => {
        if (closing) return;
        closing = true;
        console.log(`${signal}: draining and closing`);
        gateway.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });

  program
    .command('check')
    .description('validate a config file and print its routes and features')
    .option('-c, --config <path>', 'path to keel.yaml')
    .action((opts: { config?: string }) => {
      const config = load(opts.config);
      for (const [name, route] of Object.entries(config.routes)) {
        console.log(`${name}: ${route.targets.map((t) => t.model).join(' → ')}`);
      }
      for (const [name, f] of Object.entries(config.features)) {
        const prompt = f.prompt ? `prompt ${f.prompt.name}:${f.prompt.label}` : 'inline prompt';
        const contract = f.contract === 'text' ? 'text' : 'JSON Schema';
        const release = [
          f.release?.canary && `canary ${f.release.canary.percent}% by ${f.release.canary.by}`,
          f.release?.shadow &&
            `shadow ${f.release.shadow.percent}% of ${f.release.shadow.label ?? f.release.shadow.route}`,
        ].filter(Boolean);
        console.log(
          `feature ${name}: ${prompt}, route ${f.route}, contract ${contract}, ${f.retries} retries` +
            `${f.fallback.length ? `, fallback ${f.fallback.map((s) => Object.keys(s)[0]).join(' → ')}` : ''}` +
            `${release.length ? `, ${release.join(', ')}` : ''}`,
        );
      }
      console.log('config ok');
    });

  registerTraceCommands(program);
  registerControlCommands(program);
  registerChaosCommands(program);
  registerPromptCommands(program);
  registerReleaseCommands(program);
  registerReviewCommands(program);
  registerEvalCommands(program);

  await program.parseAsync(argv);
}
