/**
 * Release statistics: canary and shadow records aggregated per arm (requests, success rate,
 * validation pass rate, p50/p95 latency, mean cost), the in-memory `ReleaseLog` sink that keeps the
 * last N records per feature, and the table `keel release status NAME` prints.
 */
import type { ArmOutcome, ReleaseRecord, ReleaseSink } from './ports.ts';

export interface ArmStats {
  requests: number;
  /** Share of requests that ended with a valid model answer. */
  successRate: number;
  /** Share of first answers that passed the contract; null when the model never answered. */
  validationPassRate: number | null;
  p50LatencyMs: number;
  p95LatencyMs: number;
  meanCostUsd: number;
  /** Prompt versions seen in this arm, most requests first. */
  versions: string[];
  routes: string[];
}

export interface ReleaseStatus {
  feature: string;
  canary?: { baseline: ArmStats; canary: ArmStats };
  shadow?: { baseline: ArmStats; candidate: ArmStats };
}

/** Nearest-rank percentile of ascending `sorted`: the smallest value with q of the values at or below it. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function byFrequency(values: string[]): string[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([v]) => v);
}

export function armStats(outcomes: ArmOutcome[]): ArmStats {
  const n = outcomes.length;
  const latencies = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  const validated = outcomes.filter((o) => o.validation !== undefined);
  return {
    requests: n,
    successRate: n === 0 ? 0 : outcomes.filter((o) => o.ok).length / n,
    validationPassRate:
      validated.length === 0 ? null : validated.filter((o) => o.validation?.ok).length / validated.length,
    p50LatencyMs: percentile(latencies, 0.5),
    p95LatencyMs: percentile(latencies, 0.95),
    meanCostUsd: n === 0 ? 0 : outcomes.reduce((sum, o) => sum + o.costUsd, 0) / n,
    versions: byFrequency(outcomes.map((o) => o.version)),
    routes: byFrequency(outcomes.map((o) => o.route)),
  };
}

export function releaseStatus(feature: string, records: Iterable<ReleaseRecord>): ReleaseStatus {
  const canary: Record<'baseline' | 'canary', ArmOutcome[]> = { baseline: [], canary: [] };
  const shadow: Record<'baseline' | 'candidate', ArmOutcome[]> = { baseline: [], candidate: [] };
  for (const record of records) {
    if (record.feature !== feature) continue;
    if (record.kind === 'canary') canary[record.arm].push(record.outcome);
    else {
      shadow.baseline.push(record.baseline);
      shadow.candidate.push(record.candidate);
    }
  }
  const status: ReleaseStatus = { feature };
  if (canary.baseline.length + canary.canary.length > 0) {
    status.canary = { baseline: armStats(canary.baseline), canary: armStats(canary.canary) };
  }
  if (shadow.baseline.length > 0) {
    status.shadow = { baseline: armStats(shadow.baseline), candidate: armStats(shadow.candidate) };
  }
  return status;
}

/** A fixed-size ring: the newest `capacity` items, oldest first. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  toArray(): T[] {
    return this.items.length < this.capacity
      ? [...this.items]
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

export interface ReleaseLogOptions {
  /** Records kept per feature (the newest). Default 1000. */
  perFeature?: number;
}

/** The release sink in memory: the last records of each feature, and their status. */
export class ReleaseLog implements ReleaseSink {
  private readonly rings = new Map<string, Ring<ReleaseRecord>>();
  private readonly perFeature: number;

  constructor(options: ReleaseLogOptions = {}) {
    this.perFeature = Math.max(1, options.perFeature ?? 1000);
  }

  record(record: ReleaseRecord): void {
    let ring = this.rings.get(record.feature);
    if (!ring) {
      ring = new Ring(this.perFeature);
      this.rings.set(record.feature, ring);
    }
    ring.push(record);
  }

  /** The kept records of a feature, oldest first. */
  records(feature: string): ReleaseRecord[] {
    return this.rings.get(feature)?.toArray() ?? [];
  }

  status(feature: string): ReleaseStatus {
    return releaseStatus(feature, this.records(feature));
  }
}

const pct = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);

/** The `keel release status NAME` table. */
export function formatReleaseStatus(status: ReleaseStatus): string {
  const header = [
    'traffic',
    'arm',
    'version',
    'route',
    'requests',
    'success',
    'valid',
    'p50 ms',
    'p95 ms',
    'mean cost',
  ];
  const rows: string[][] = [];
  const add = (traffic: string, arm: string, s: ArmStats) =>
    rows.push([
      traffic,
      arm,
      s.versions.join(',') || '-',
      s.routes.join(',') || '-',
      String(s.requests),
      pct(s.requests === 0 ? null : s.successRate),
      pct(s.validationPassRate),
      String(Math.round(s.p50LatencyMs)),
      String(Math.round(s.p95LatencyMs)),
      `$${s.meanCostUsd.toFixed(6)}`,
    ]);
  if (status.canary) {
    add('canary', 'baseline', status.canary.baseline);
    add('canary', 'canary', status.canary.canary);
  }
  if (status.shadow) {
    add('shadow', 'baseline', status.shadow.baseline);
    add('shadow', 'candidate', status.shadow.candidate);
  }
  if (rows.length === 0) return `${status.feature}: no canary or shadow traffic recorded\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [`release status: ${status.feature}`, line(header), ...rows.map(line)].join('\n') + '\n';
}
