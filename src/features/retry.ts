/**
 * The retry path of an invalid answer: restate the contract in a system message, show the model its
 * answer and what was wrong with it, lower the temperature (0.2, then 0), and narrow the context to
 * the system messages and the last few others.
 */
import type { ChatMessage } from '../core/types.ts';
import type { Contract } from './config.ts';

export interface AttemptPlan {
  messages: ChatMessage[];
  temperature?: number | undefined;
}

export interface RetryOptions {
  /** The first attempt's messages: rendered prompt, then the caller's. */
  base: ChatMessage[];
  contract: Contract;
  /** 1 for the first retry. */
  retry: number;
  /** The first attempt's temperature, if it set one. */
  temperature: number | undefined;
  lastAnswer: string | undefined;
  errors: string[];
  /** Non-system messages kept, newest first. */
  keepMessages: number;
}

/** Longest previous answer fed back; more is noise that costs tokens. */
const MAX_FED_BACK = 4000;

const isInstruction = (m: ChatMessage) => m.role === 'system' || m.role === 'developer';

export function restateContract(contract: Contract): string {
  if (contract === 'text') return 'Answer with text; an empty answer is not accepted.';
  return [
    'Answer with JSON only: no prose, no code fence. It must validate against this JSON Schema:',
    JSON.stringify(contract.schema),
  ].join('\n');
}

/** Every system message, and the last `keep` of the others, in their original order. */
export function narrow(messages: ChatMessage[], keep: number): ChatMessage[] {
  const others = messages.filter((m) => !isInstruction(m));
  const kept = new Set(others.slice(Math.max(0, others.length - keep)));
  return messages.filter((m) => isInstruction(m) || kept.has(m));
}

/** Retry 1 runs at min(temperature, 0.2), later retries at 0. */
export function retryTemperature(retry: number, current: number | undefined): number {
  return retry <= 1 ? Math.min(current ?? 0.2, 0.2) : 0;
}

export function retryPlan(options: RetryOptions): AttemptPlan {
  const narrowed = narrow(options.base, options.keepMessages);
  const firstOther = narrowed.findIndex((m) => !isInstruction(m));
  const at = firstOther === -1 ? narrowed.length : firstOther;
  const restated: ChatMessage = { role: 'system', content: restateContract(options.contract) };
  const feedback: ChatMessage[] = [];
  if (options.lastAnswer !== undefined && options.lastAnswer !== '') {
    feedback.push({ role: 'assistant', content: options.lastAnswer.slice(0, MAX_FED_BACK) });
  }
  feedback.push({
    role: 'user',
    content: [
      'Your previous answer was rejected:',
      ...options.errors.map((e) => `- ${e}`),
      'Answer again, following the required format exactly.',
    ].join('\n'),
  });
  return {
    messages: [...narrowed.slice(0, at), restated, ...narrowed.slice(at), ...feedback],
    temperature: retryTemperature(options.retry, options.temperature),
  };
}
