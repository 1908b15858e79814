/**
 * Compile src/ and bench/ to plain JavaScript in a temporary directory, so the server children run the
 * way Keel runs in production (compiled JS, `node bin/keel.js`), not under the tsx loader: on Node 20
 * the loader's hooks run in an extra worker thread (its own V8 isolate, ~35 MB RSS) that would inflate
 * every RSS reading and share the CPU. Per-file transpile with the repo's own tsconfig options
 * (typescript's transpileModule, which also rewrites the `.ts` import extensions); no type check.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Build {
  dir: string;
  /** The compiled path of a repo-relative .ts file, e.g. "bench/keel-server.ts". */
  path(repoRelativeTs: string): string;
  cleanup(): void;
}

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'results' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      yield* tsFiles(full);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield full;
  }
}

export function buildForBench(): Build {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  // ESM scope, and bare imports (fastify, undici, ...) resolving to the repo's node_modules.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');

  const configFile = ts.readConfigFile(join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  if (configFile.error) throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, repoRoot);
  const compilerOptions: ts.CompilerOptions = {
    ...parsed.options,
    // ESM output regardless of the (absent) package.json lookup transpileModule cannot do.
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: false,
    sourceMap: false,
    inlineSourceMap: false,
    declaration: false,
  };
  for (const source of [...tsFiles(join(repoRoot, 'src')), ...tsFiles(join(repoRoot, 'bench'))]) {
    const rel = relative(repoRoot, source);
    const out = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions, fileName: source });
    const target = join(dir, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  return {
    dir,
    path: (rel) => join(dir, rel.replace(/\.ts$/, '.js')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
