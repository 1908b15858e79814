/**
 * The terminal progress bar of an eval run (cli-progress), drawn on stderr and only when stderr is a
 * terminal, so logs and CI output stay clean.
 */
import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(done: number, detail: { errors: number }): void;
  stop(): void;
}

const silent: ProgressBar = { update() {}, stop() {} };

export function progressBar(options: {
  enabled?: boolean | undefined;
  total: number;
  done: number;
  label: string;
}): ProgressBar {
  const enabled = options.enabled ?? Boolean(process.stderr.isTTY);
  if (!enabled || options.total === 0) return silent;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${options.label} [{bar}] {value}/{total} pairs | {percentage}% | eta {eta_formatted} | errors {errors}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  bar.start(options.total, options.done, { errors: 0 });
  return {
    update(done, detail) {
      bar.update(done, detail);
    },
    stop() {
      bar.stop();
    },
  };
}
