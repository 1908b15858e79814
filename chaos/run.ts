/**
 * `npm run chaos [-- --short] [-- SCENARIO...]`: run the game days on loopback, print the scorecard,
 * write chaos/results/latest.{json,md}, and exit 1 when any scenario misses a threshold.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { runGameDays } from './lib/gameday.ts';
import { renderMarkdown, renderText } from './lib/report.ts';
import { scenarios } from './scenarios.ts';

const RESULTS = new URL('./results/', import.meta.url);

async function main(argv: string[]): Promise<number> {
  const short = argv.includes('--short');
  const only = argv.filter((a) => !a.startsWith('--'));
  const unknownFlags = argv.filter((a) => a.startsWith('--') && a !== '--short');
  if (unknownFlags.length > 0 || argv.includes('--help')) {
    const names = scenarios('full')
      .map((s) => s.name)
      .join(', ');
    console.error(`usage: npm run chaos -- [--short] [SCENARIO...]\nscenarios: ${names}`);
    return 2;
  }
  const mode = short ? 'short' : 'full';
  const run = await runGameDays({
    mode,
    only,
    onStart: (s) => {
      const seconds = (s.load.durationMs / 1000).toFixed(0);
      process.stdout.write(`▶ ${s.name} (${seconds} s): ${s.description} … `);
    },
    onResult: (r) => {
      const failed = r.checks.filter((c) => !c.pass).map((c) => `${c.name} ${c.actual}`);
      console.log(r.passed ? 'PASS' : `FAIL (${failed.join('; ')})`);
    },
  });
  console.log('');
  console.log(renderText(run));
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(new URL('latest.json', RESULTS), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(new URL('latest.md', RESULTS), renderMarkdown(run));
  console.log('\nwrote chaos/results/latest.json and chaos/results/latest.md');
  return run.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
