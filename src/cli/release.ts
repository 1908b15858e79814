/**
 * `keel release status NAME`: canary and shadow traffic of a feature, baseline vs candidate, from the
 * running gateway's admin API.
 */
import type { Command } from 'commander';
import { formatReleaseStatus, type ReleaseStatus } from '../features/release-stats.ts';
import type { ShadowCounts } from '../features/shadow.ts';
import { adminCall } from './control.ts';

export function registerReleaseCommands(program: Command): void {
  const release = program.command('release').description('canary and shadow releases of features');
  release
    .command('status')
    .description('canary and shadow traffic of a feature: success, validation, latency and cost per arm')
    .argument('<feature>', 'the feature name')
    .option('--url <url>', 'the running gateway', 'http://127.0.0.1:8080')
    .option('--json', 'print JSON')
    .action(async (feature: string, opts: { url: string; json?: boolean }) => {
      const status = await adminCall<ReleaseStatus & { shadowRuns?: ShadowCounts }>(
        { url: opts.url },
        'GET',
        `/admin/releases/${encodeURIComponent(feature)}`,
      );
      if (opts.json) {
        console.log(JSON.stringify(status, null, 2));
        return;
      }
      console.log(formatReleaseStatus(status));
      const runs = status.shadowRuns;
      if (runs) {
        console.log(
          `shadow runs (all features): ${runs.completed} completed, ${runs.running} running, ` +
            `${runs.dropped} dropped (runner busy), ${runs.failed} failed`,
        );
      }
    });
}
