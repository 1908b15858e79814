export { diffPrompts, promptYaml, unifiedDiff } from './diff.ts';
export { PromptFileError, PromptNotFoundError, PromptRequestError, PromptVariableError } from './errors.ts';
export {
  type PortRenderedPrompt,
  PromptQuarantinedError,
  type PromptsPortAdapter,
  promptsPort,
} from './feature-port.ts';
export { MemoryPromptStore } from './memory-store.ts';
export { openPromptStore, type PromptStoreSpec } from './open-store.ts';
export { DEFAULT_LABEL, formatRef, type PromptRef, parseRef } from './ref.ts';
export {
  type ActorMeta,
  type PreparedPrompt,
  type PromptFallback,
  PromptRegistry,
  type PromptRegistryOptions,
} from './registry.ts';
export { type RenderedMessage, type RenderOptions, renderPrompt, renderTemplate } from './render.ts';
export type { ResolvedPrompt } from './resolve.ts';
export {
  type PromptBody,
  type PromptDefinition,
  type PromptParams,
  parsePromptFile,
  parsePromptObject,
} from './schema.ts';
export { DEFAULT_PROMPT_DB_PATH, SqlitePromptStore, type SqlitePromptStoreOptions } from './sqlite-store.ts';
export type { LabelEvent, PromptStore, PromptSummary, PromptVersion, PushResult } from './store.ts';
export { versionId } from './version-id.ts';
