/**
 * Reading and rewriting the text of OpenAI-style chat messages, whose content is a string, an array of
 * parts (`{ type: 'text', text }` among images and others), or null. Rewrites copy; inputs are never mutated.
 */
import type { ChatMessage, ContentPart } from '../core/types.ts';

export interface TextSegment {
  /** Index of the part in an array content; undefined for string content. */
  readonly part: number | undefined;
  readonly text: string;
}

/** The text segments of a message, in order. Non-text parts and null content have none. */
export function textSegments(message: ChatMessage): TextSegment[] {
  const { content } = message;
  if (typeof content === 'string') return [{ part: undefined, text: content }];
  if (!Array.isArray(content)) return [];
  const out: TextSegment[] = [];
  content.forEach((p: ContentPart, i) => {
    if (p.type === 'text' && typeof p.text === 'string') out.push({ part: i, text: p.text });
  });
  return out;
}

/** A copy of `message` whose text segment `part` now reads `text`. */
export function withSegment(message: ChatMessage, part: number | undefined, text: string): ChatMessage {
  if (part === undefined || !Array.isArray(message.content)) return { ...message, content: text };
  const content = message.content.map((p, i) => (i === part ? { ...p, text } : p));
  return { ...message, content };
}

/** Where a segment sits, for reasons: `messages[2]` or `messages[2].content[1]`. */
export function segmentPath(messageIndex: number, part: number | undefined): string {
  return part === undefined ? `messages[${messageIndex}]` : `messages[${messageIndex}].content[${part}]`;
}
