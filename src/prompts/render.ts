/**
 * Rendering a prompt version with a caller's variables into chat messages. Every variable problem is a
 * PromptVariableError naming the variable (a 400 at the HTTP edge): unknown, missing, mistyped, too
 * long, or referenced by the template without being declared.
 *
 *   renderPrompt(version, { customer_name: 'Ada', question: 'Where is my order?' })
 *   // → [{ role: 'system', content: '…' }, { role: 'user', content: 'Ada asks: Where is my order?' }]
 */
import { PromptVariableError } from './errors.ts';
import type { PromptBody } from './schema.ts';
import { placeholders, substitute, valueText } from './template.ts';
import { isPlainObject, variableProblem } from './variables.ts';

export interface RenderedMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface RenderOptions {
  /**
   * Skip variables the prompt does not declare instead of refusing them. For a fallback render: the
   * caller's variables were meant for a newer version that may declare more.
   */
  ignoreUnknown?: boolean;
}

/** The variables a render uses: the caller's values, checked, with defaults filled in. */
export function resolveVariables(
  body: PromptBody,
  given: unknown,
  options: RenderOptions = {},
): Map<string, unknown> {
  if (given !== undefined && given !== null && !isPlainObject(given)) {
    throw new PromptVariableError('', 'must be an object of variable names to values');
  }
  const supplied = (given ?? {}) as Record<string, unknown>;
  const declared = body.variables;
  const unknown = Object.keys(supplied)
    .filter((name) => !Object.hasOwn(declared, name))
    .sort();
  if (unknown[0] !== undefined && !options.ignoreUnknown) {
    const names = Object.keys(declared);
    const known = names.length === 0 ? 'this prompt declares none' : `declared: ${names.join(', ')}`;
    throw new PromptVariableError(unknown[0], `unknown variable (${known})`);
  }
  const values = new Map<string, unknown>();
  for (const [name, spec] of Object.entries(declared)) {
    // null means "not given", so optional variables can be sent explicitly empty.
    const value = supplied[name] ?? spec.default;
    if (value === undefined || value === null) {
      if (spec.required) throw new PromptVariableError(name, 'required variable is missing');
      continue;
    }
    const problem = variableProblem(spec, value);
    if (problem) throw new PromptVariableError(name, problem);
    values.set(name, value);
  }
  return values;
}

/** The text for `path`; `absent` is what an unset variable gives ('' for a declared optional one). */
function lookup(
  values: ReadonlyMap<string, unknown>,
  path: string[],
  absent: (root: string) => string,
): string {
  const [root, ...fields] = path as [string, ...string[]];
  let value = values.get(root);
  if (value === undefined || value === null) return absent(root);
  for (const [i, field] of fields.entries()) {
    if (!isPlainObject(value) || !Object.hasOwn(value, field)) {
      const at = [root, ...fields.slice(0, i + 1)].join('.');
      throw new PromptVariableError(at, 'field is missing');
    }
    value = value[field];
  }
  return valueText(value);
}

/** Render a version (or its body) with the caller's variables. */
export function renderPrompt(
  prompt: PromptBody | { body: PromptBody },
  variables: unknown,
  options: RenderOptions = {},
): RenderedMessage[] {
  const body = 'body' in prompt ? prompt.body : prompt;
  const values = resolveVariables(body, variables, options);
  return body.messages.map((m) => ({
    role: m.role,
    content: substitute(m.content, (path) =>
      lookup(values, path, (root) => {
        if (Object.hasOwn(body.variables, root)) return '';
        throw new PromptVariableError(root, 'used by the template but not declared');
      }),
    ),
  }));
}

/**
 * Render messages that declare no variables (a feature's inline prompt): every placeholder must be
 * given, variables no placeholder uses are ignored. Same substitution rules as `renderPrompt`.
 */
export function renderTemplate<M extends { content: string }>(
  messages: readonly M[],
  variables: unknown,
): M[] {
  if (variables !== undefined && variables !== null && !isPlainObject(variables)) {
    throw new PromptVariableError('', 'must be an object of variable names to values');
  }
  const values = new Map(Object.entries((variables ?? {}) as Record<string, unknown>));
  for (const m of messages) {
    for (const { raw, path } of placeholders(m.content)) {
      if (path === undefined) throw new PromptVariableError(raw, 'is not a variable reference');
    }
  }
  return messages.map((m) => ({
    ...m,
    content: substitute(m.content, (path) =>
      lookup(values, path, (root) => {
        throw new PromptVariableError(root, 'required variable is missing');
      }),
    ),
  }));
}
