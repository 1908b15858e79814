/**
 * Summarise .cpuprofile files, e.g. those `npm run bench -- --profile` writes under
 * bench/results/profiles/.
 *
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP_N] [REQUESTS_SERVED]
 * Paths of a compiled copy of the repo (/tmp/keel-bench-*) are shown repo-relative.
 */
import { formatProfile, summarizeProfile } from './lib/profile.ts';

const [file, n, requests] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [TOP_N] [REQUESTS_SERVED]');
  process.exit(2);
}
console.log(
  formatProfile(summarizeProfile(file, n ? Number(n) : 25, requests ? Number(requests) : undefined)),
);
