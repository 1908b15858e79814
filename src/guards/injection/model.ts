/**
 * The shipped weights (weights.ts, produced by scripts/train-injection.ts) decoded once at load, and the
 * two scoring calls the detector makes with them.
 */
import { EVIDENCE_FEATURES } from './evidence.ts';
import { DIMENSIONS } from './features.ts';
import { combine, type NgramModel, ngramMargin } from './linear.ts';
import { INJECTION_WEIGHTS } from './weights.ts';

function decodeNgram(): NgramModel {
  const bytes = Buffer.from(INJECTION_WEIGHTS.ngram.int8, 'base64');
  if (bytes.length !== DIMENSIONS) {
    throw new Error(`injection weights hold ${bytes.length} buckets, features.ts hashes into ${DIMENSIONS}`);
  }
  const int8 = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    weights: Float32Array.from(int8, (q) => q * INJECTION_WEIGHTS.ngram.scale),
    bias: INJECTION_WEIGHTS.ngram.bias,
  };
}

const NGRAM = decodeNgram();
const COMBINER = Float64Array.from(EVIDENCE_FEATURES, (name) => INJECTION_WEIGHTS.combiner.weights[name]);

/** The n-gram classifier's margin over the canonical text and its decoded segments. */
export function classifierMargin(texts: readonly string[]): number {
  return ngramMargin(NGRAM, texts);
}

/** P(injection) for a full evidence vector. */
export function injectionProbability(values: ArrayLike<number>): number {
  return combine(values, COMBINER, INJECTION_WEIGHTS.combiner.bias);
}
