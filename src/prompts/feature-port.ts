/**
 * The registry as the feature pipeline's `PromptsPort` (src/features/ports.ts), written structurally:
 * this module may not import the pipeline, and the pipeline imports no registry. The pipeline does its
 * own fallback (label → last known-good, recorded in its decision path); this adapter adds the
 * registry's quarantine to it. `render` of a version that kept failing validation throws
 * PromptQuarantinedError, but only when the known-good version can render the same variables, so the
 * pipeline's fallback always has somewhere to go and the error never reaches a caller.
 *
 *   const service = new FeatureService({ features, prompts: promptsPort(registry), chat });
 */
import { PromptNotFoundError } from './errors.ts';
import type { PromptRegistry } from './registry.ts';
import { renderPrompt, renderTemplate } from './render.ts';

export interface PortRenderedPrompt {
  messages: Array<{ role: 'system' | 'developer' | 'user' | 'assistant'; content: string }>;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

/** Thrown by the port's `render` for a quarantined version; the pipeline then uses the known-good one. */
export class PromptQuarantinedError extends Error {
  constructor(name: string, version: string, failures: number) {
    super(
      `version ${version} of ${name} failed output validation ${failures} times in a row and is skipped for now`,
    );
    this.name = 'PromptQuarantinedError';
  }
}

export interface PromptsPortAdapter {
  resolve(name: string, label: string): Promise<string | undefined>;
  render(name: string, version: string, variables: Record<string, unknown>): Promise<PortRenderedPrompt>;
  renderInline(
    messages: Array<{ role: 'system' | 'developer' | 'user' | 'assistant'; content: string }>,
    variables: Record<string, unknown>,
  ): PortRenderedPrompt;
  lastKnownGood(name: string, excludeVersion?: string): Promise<string | undefined>;
  markKnownGood(name: string, version: string): Promise<void>;
  reportFailure(name: string, version: string): void;
}

function rendersWith(body: Parameters<typeof renderPrompt>[0], variables: unknown): boolean {
  try {
    renderPrompt(body, variables);
    return true;
  } catch {
    return false;
  }
}

export function promptsPort(registry: PromptRegistry): PromptsPortAdapter {
  return {
    async resolve(name, label) {
      try {
        return (await registry.resolve({ kind: 'label', name, label })).version.version;
      } catch (err) {
        if (err instanceof PromptNotFoundError) return undefined;
        throw err;
      }
    },

    async render(name, version, variables) {
      const failures = registry.quarantined({ name, version });
      if (failures !== undefined) {
        const good = await registry.lastKnownGood(name, version);
        if (good && rendersWith(good, variables)) throw new PromptQuarantinedError(name, version, failures);
      }
      const prepared = await registry.renderVersion(name, version, variables);
      return {
        messages: prepared.messages,
        temperature: prepared.params?.temperature,
        maxTokens: prepared.params?.max_tokens,
      };
    },

    renderInline(messages, variables) {
      return { messages: renderTemplate(messages, variables) };
    },

    async lastKnownGood(name, excludeVersion) {
      return (await registry.lastKnownGood(name, excludeVersion))?.version;
    },

    markKnownGood(name, version) {
      return registry.reportSuccess({ name, version });
    },

    reportFailure(name, version) {
      registry.reportFailure({ name, version });
    },
  };
}
