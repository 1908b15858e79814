/**
 * The two linear models, as pure functions of their weights: the n-gram classifier (scored per chunk,
 * highest chunk wins, so one injected sentence in a long document is not diluted) and the combiner.
 * Shared by the runtime (model.ts) and the training script, so both score exactly the same way.
 */
import { textMargin } from './features.ts';

const CHUNK_CHARS = 400;
const MAX_MARGIN = 8;

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Sentence-aligned chunks of at most ~400 characters (a longer sentence is its own chunk). */
export function chunks(text: string): string[] {
  if (text.length <= CHUNK_CHARS) return [text];
  const out: string[] = [];
  let current = '';
  for (const sentence of text.split(/(?<=[.!?。！？\n])\s+/u)) {
    if (current.length > 0 && current.length + sentence.length + 1 > CHUNK_CHARS) {
      out.push(current);
      current = '';
    }
    current = current.length === 0 ? sentence : `${current} ${sentence}`;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface NgramModel {
  readonly weights: ArrayLike<number>;
  readonly bias: number;
}

/** The classifier's margin for a text (and its decoded segments): the highest over chunks, clamped to ±8. */
export function ngramMargin(model: NgramModel, texts: readonly string[]): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const text of texts) {
    for (const chunk of chunks(text)) best = Math.max(best, textMargin(model.weights, chunk));
  }
  const margin = (best === Number.NEGATIVE_INFINITY ? 0 : best) + model.bias;
  return Math.max(-MAX_MARGIN, Math.min(MAX_MARGIN, margin));
}

/** P(injection) from the evidence vector (ngram margin included) and the combiner's weights. */
export function combine(values: ArrayLike<number>, weights: ArrayLike<number>, bias: number): number {
  let z = bias;
  for (let i = 0; i < values.length; i++) z += (values[i] ?? 0) * (weights[i] ?? 0);
  return sigmoid(z);
}
