import { Command } from 'commander';

/**
 * Runs `keel ARGS…` in-process on a fresh commander program with the given commands registered, and
 * returns what it printed. Commander's exits throw (exitOverride) instead of ending the test process.
 */
export async function runCli(
  register: (program: Command) => void,
  args: string[],
): Promise<{ out: string; err: string }> {
  const program = new Command('keel').exitOverride();
  register(program);
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    await program.parseAsync(['node', 'keel', ...args]);
  } finally {
    console.log = log;
    console.error = error;
  }
  return { out: out.join('\n'), err: err.join('\n') };
}
