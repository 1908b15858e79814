/**
 * The guards (src/guards) as the feature pipeline's GuardsPort. A feature's `guards` section is parsed
 * once per config (the config check has already reported its problems by path) and built once. Input
 * guards read the caller's messages and every string variable: a variable is text that reaches the
 * model like any message. PII placeholders are numbered across both, so one value gets one placeholder.
 * A blocking deny-list or topics guard is a policy refusal (403); PII and injection blocks are the
 * caller's input (400). Verdicts name guards and entity types, never the matched text.
 */
import type { ChatMessage } from '../core/types.ts';
import type { FeatureInput, GuardFinding, GuardsPort, InputVerdict } from '../features/ports.ts';
import { buildGuards, guardsConfigSchema } from '../guards/config.ts';
import { PlaceholderMap } from '../guards/placeholders.ts';
import { type GuardRunResult, runGuards } from '../guards/runner.ts';
import type { Guard } from '../guards/types.ts';

type Built = { input: Guard[]; output: Guard[]; policy: Set<string> };

const NONE: Built = { input: [], output: [], policy: new Set() };

function findings(run: GuardRunResult): GuardFinding[] {
  return run.verdicts
    .filter((v) => v.triggered)
    .map((v) => ({ guard: v.guard, detail: `${v.action}: ${v.reasons.join('; ')}` }));
}

export function featureGuards(): GuardsPort {
  const cache = new WeakMap<object, Built>();
  const built = (spec: Record<string, unknown> | undefined): Built => {
    if (spec === undefined) return NONE;
    let hit = cache.get(spec);
    if (!hit) {
      const config = guardsConfigSchema.parse(spec);
      const guards = buildGuards(config);
      const policy = new Set(
        [...config.input, ...config.output]
          .filter((g) => g.type === 'denylist' || g.type === 'topics')
          .map((g) => g.name ?? g.type),
      );
      hit = { ...guards, policy };
      cache.set(spec, hit);
    }
    return hit;
  };

  return {
    async checkInput(input, ctx): Promise<InputVerdict> {
      const guards = built(ctx.spec);
      if (guards.input.length === 0) return { action: 'allow' };
      const placeholders = new PlaceholderMap();
      const runs: GuardRunResult[] = [];
      const messages = runGuards(guards.input, input.messages as ChatMessage[], 'input', { placeholders });
      runs.push(messages);
      const variables: Record<string, unknown> = { ...input.variables };
      for (const [name, value] of Object.entries(input.variables)) {
        if (messages.blocked || runs.some((r) => r.blocked)) break;
        if (typeof value !== 'string') continue;
        const run = runGuards(guards.input, value, 'input', { placeholders });
        runs.push(run);
        variables[name] = run.text ?? value;
      }
      const blocked = runs.find((r) => r.blocked)?.blocked;
      if (blocked) {
        return {
          action: 'block',
          guard: blocked.guard,
          reason: blocked.reason,
          status: guards.policy.has(blocked.guard) ? 403 : 400,
        };
      }
      const found = runs.flatMap(findings);
      const rewritten = runs.some((r) => r.verdicts.some((v) => v.triggered && v.action === 'redact'));
      if (!rewritten) return { action: 'allow', findings: found };
      const next: FeatureInput = { variables, messages: messages.messages };
      return { action: 'redact', input: next, placeholders: placeholders.mapping(), findings: found };
    },

    async checkOutput(text, ctx) {
      const guards = built(ctx.spec);
      if (guards.output.length === 0) return { action: 'allow' };
      const run = runGuards(guards.output, text, 'output');
      if (run.blocked) return { action: 'block', guard: run.blocked.guard, reason: run.blocked.reason };
      const found = findings(run);
      if (run.text !== undefined && run.text !== text)
        return { action: 'redact', text: run.text, findings: found };
      return { action: 'allow', findings: found };
    },
  };
}
