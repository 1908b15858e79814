import { gatewayFromYaml } from '../../helpers/gateway.ts';

/** The gateway under overload, in its own process so the load generator does not share its event loop. */
const gw = await gatewayFromYaml(`
providers: { sim: { type: simulated } }
models:
  m: { provider: sim, model: m, simulate: { ttftMs: { p50: 100, p99: 100 }, tokensPerSecond: 100000 } }
routes:
  chat:
    deadlineMs: 5000
    concurrency: { max: 10, queue: 20, queueWaitMs: 300 }
    targets: [{ model: m }]
`);
process.stdout.write(`${JSON.stringify({ url: gw.url })}\n`);
process.on('message', (message: unknown) => {
  if (message === 'stats') {
    process.send?.({ admission: gw.edge.admission.stats().chat, rss: process.memoryUsage().rss });
  } else if (message === 'close') {
    void gw.close().then(() => process.exit(0));
  }
});
