export interface PathProblem {
  path: string;
  problem: string;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. A variable that is
 * unset and has no default is a problem at that path, reported with the others.
 */
export function interpolateEnv(
  node: unknown,
  env: Record<string, string | undefined>,
  problems: PathProblem[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof node === 'string') {
    return node.replace(PLACEHOLDER, (whole, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push({
        path: formatPath(path),
        problem: `environment variable ${name} is not set (export it, or write \${${name}:-default})`,
      });
      return whole;
    });
  }
  if (Array.isArray(node)) return node.map((item, i) => interpolateEnv(item, env, problems, [...path, i]));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node))
      out[key] = interpolateEnv(value, env, problems, [...path, key]);
    return out;
  }
  return node;
}
