/**
 * Semantic scorer: cosine similarity between the embeddings of the output and of the expected text,
 * through an injected `embed` function (the gateway's embeddings endpoint, in production).
 */
import { type EmbedFn, type Param, resolveParam, type Scorer, scoreError } from './scorer.ts';

/** Cosine similarity of two vectors. @throws when lengths differ or a vector is all zeros. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0)
    throw new Error(`embedding lengths differ or are empty (${a.length} vs ${b.length})`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (normA === 0 || normB === 0) throw new Error('an embedding is all zeros');
  return dot / Math.sqrt(normA * normB);
}

/** Embeds texts and checks the answer has one vector per text. */
export async function embedAll(embed: EmbedFn, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  const vectors = await embed(texts, signal ? { signal } : undefined);
  if (!Array.isArray(vectors) || vectors.length !== texts.length)
    throw new Error(
      `embed returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts`,
    );
  return vectors;
}

export interface EmbeddingSimilarityOptions {
  name?: string;
  embed: EmbedFn;
  /** The text to compare with. Default: the case's `expected` text, else its `reference`. */
  target?: Param<string>;
  /** `pass` when the similarity reaches this (default 0.8). */
  threshold?: number;
}

/**
 * Cosine similarity of output and target embeddings, negative values floored at 0.
 * @example embeddingSimilarity({ embed: (texts) => gatewayEmbed('text-embedding-3-small', texts) })
 */
export function embeddingSimilarity(options: EmbeddingSimilarityOptions): Scorer {
  const threshold = options.threshold ?? 0.8;
  return {
    name: options.name ?? 'semantic-similarity',
    kind: 'semantic',
    async score({ evalCase, output, signal }) {
      const target =
        resolveParam(options.target, evalCase) ??
        (typeof evalCase.expected === 'string' ? evalCase.expected : evalCase.reference);
      if (target === undefined) return scoreError(`case "${evalCase.id}" has no expected text or reference`);
      if (output.trim() === '') return { value: 0, pass: false, detail: 'empty output' };
      const [a, b] = await embedAll(options.embed, [output, target], signal);
      const similarity = cosineSimilarity(a!, b!);
      const value = Math.max(0, Math.min(1, similarity));
      return { value, pass: value >= threshold, detail: `cosine ${similarity.toFixed(4)}` };
    },
  };
}
