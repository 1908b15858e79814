/**
 * Trains Keel's prompt-injection classifier and writes src/guards/injection/weights.ts.
 *
 *   node --import tsx scripts/train-injection.ts          # train, write weights
 *   node --import tsx scripts/train-injection.ts --cv     # 5-fold cross-validation on the train split only
 *
 * Reads test/fixtures/injection-corpus.jsonl and uses ONLY rows with split "train": the holdout rows are
 * dropped as the file is read and never reach a model. Deterministic: a seeded RNG orders SGD and folds,
 * so the same corpus gives byte-identical weights.
 *
 * Two stages: (1) logistic regression over hashed character n-grams; (2) a small logistic "combiner" over
 * the n-gram margin plus the rule/obfuscation/context evidence. The combiner is fitted on out-of-fold
 * n-gram margins, so it learns how far to trust the classifier on text it has not seen.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { seededRandom } from '../src/core/random.ts';
import { EVIDENCE_FEATURES, gatherEvidence, type InjectionSource } from '../src/guards/injection/evidence.ts';
import { DIMENSIONS, extractFeatures, HASH_BITS } from '../src/guards/injection/features.ts';
import { combine, type NgramModel, ngramMargin } from '../src/guards/injection/linear.ts';
import { normalizeForDetection } from '../src/guards/injection/normalize.ts';

const SEED = 20240611;
const FOLDS = 5;
const NGRAM = { epochs: 40, rate: 0.4, l2: 1e-4 };
const COMBINER = { iterations: 3000, rate: 0.5, l2: 0.001 };
const corpusUrl = new URL('../test/fixtures/injection-corpus.jsonl', import.meta.url);
const weightsUrl = new URL('../src/guards/injection/weights.ts', import.meta.url);

interface Row {
  id: string;
  text: string;
  label: 'attack' | 'benign';
  category: string;
  split: 'train' | 'holdout';
  source?: InjectionSource;
}

interface Example {
  row: Row;
  y: 0 | 1;
  texts: string[];
  /** Sparse, L2-normalised n-gram vector of text and decoded segments together. */
  idx: Int32Array;
  val: Float64Array;
  evidence: Float64Array;
}

function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function loadTrainRows(): { rows: Row[]; sha256: string } {
  const raw = readFileSync(corpusUrl, 'utf8');
  const rows = raw
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.split === 'train');
  return { rows, sha256: createHash('sha256').update(raw).digest('hex') };
}

function toExample(row: Row): Example {
  const n = normalizeForDetection(row.text);
  const texts = [n.text, ...n.decoded];
  const features = new Map<number, number>();
  for (const t of texts) extractFeatures(t, features);
  const norm = Math.sqrt([...features.values()].reduce((s, c) => s + c * c, 0)) || 1;
  const idx = Int32Array.from(features.keys());
  const val = Float64Array.from(features.values(), (c) => c / norm);
  const evidence = gatherEvidence(n, row.source ?? 'user').values;
  return { row, y: row.label === 'attack' ? 1 : 0, texts, idx, val, evidence };
}

function trainNgram(examples: readonly Example[], rng: () => number): NgramModel {
  const w = new Float64Array(DIMENSIONS);
  let b = 0;
  for (let epoch = 0; epoch < NGRAM.epochs; epoch++) {
    const rate = NGRAM.rate / (1 + epoch * 0.1);
    for (const ex of shuffled(examples, rng)) {
      let z = b;
      for (let k = 0; k < ex.idx.length; k++) z += w[ex.idx[k]!]! * ex.val[k]!;
      const g = 1 / (1 + Math.exp(-z)) - ex.y;
      for (let k = 0; k < ex.idx.length; k++) {
        const i = ex.idx[k]!;
        w[i] = w[i]! - rate * (g * ex.val[k]! + NGRAM.l2 * w[i]!);
      }
      b -= rate * g;
    }
  }
  return { weights: w, bias: b };
}

/** Full-batch gradient descent: a few dozen features, so exact and order-free. */
function trainCombiner(
  xs: readonly Float64Array[],
  ys: readonly number[],
): { weights: Float64Array; bias: number } {
  const d = EVIDENCE_FEATURES.length;
  const w = new Float64Array(d);
  let b = 0;
  for (let it = 0; it < COMBINER.iterations; it++) {
    const gw = new Float64Array(d);
    let gb = 0;
    xs.forEach((x, j) => {
      const g = combine(x, w, b) - ys[j]!;
      for (let i = 0; i < d; i++) gw[i] = gw[i]! + g * x[i]!;
      gb += g;
    });
    for (let i = 0; i < d; i++) w[i] = w[i]! - COMBINER.rate * (gw[i]! / xs.length + COMBINER.l2 * w[i]!);
    b -= COMBINER.rate * (gb / xs.length);
  }
  return { weights: w, bias: b };
}

/** Stratified fold number for each example. */
function folds(examples: readonly Example[], k: number, rng: () => number): number[] {
  const fold = new Array<number>(examples.length).fill(0);
  for (const y of [0, 1]) {
    const members = shuffled(
      examples.map((e, i) => ({ e, i })).filter(({ e }) => e.y === y),
      rng,
    );
    members.forEach(({ i }, j) => {
      fold[i] = j % k;
    });
  }
  return fold;
}

/** Quantise to int8 (symmetric, one scale) and back: what ships is what the combiner is fitted against. */
function quantise(weights: ArrayLike<number>): {
  scale: number;
  bytes: Int8Array;
  dequantised: Float64Array;
} {
  let max = 0;
  for (let i = 0; i < weights.length; i++) max = Math.max(max, Math.abs(weights[i]!));
  const scale = max / 127 || 1;
  const bytes = Int8Array.from({ length: weights.length }, (_, i) => Math.round(weights[i]! / scale));
  return { scale, bytes, dequantised: Float64Array.from(bytes, (q) => q * scale) };
}

interface Fitted {
  ngram: NgramModel;
  quantised: ReturnType<typeof quantise>;
  combiner: { weights: Float64Array; bias: number };
}

/** Fit both stages on `examples`; the combiner sees out-of-fold n-gram margins. */
function fit(examples: readonly Example[], rng: () => number): Fitted {
  const fold = folds(examples, FOLDS, rng);
  const oof: Float64Array[] = examples.map((e) => Float64Array.from(e.evidence));
  for (let f = 0; f < FOLDS; f++) {
    const model = trainNgram(
      examples.filter((_, i) => fold[i] !== f),
      rng,
    );
    const q = quantise(model.weights).dequantised;
    examples.forEach((e, i) => {
      if (fold[i] === f) oof[i]![0] = ngramMargin({ weights: q, bias: model.bias }, e.texts);
    });
  }
  const ngram = trainNgram(examples, rng);
  const quantised = quantise(ngram.weights);
  const combiner = trainCombiner(
    oof,
    examples.map((e) => e.y),
  );
  return { ngram, quantised, combiner };
}

function score(model: Fitted, e: Example): number {
  const values = Float64Array.from(e.evidence);
  values[0] = ngramMargin({ weights: model.quantised.dequantised, bias: model.ngram.bias }, e.texts);
  return combine(values, model.combiner.weights, model.combiner.bias);
}

function report(label: string, examples: readonly Example[], scores: readonly number[]): void {
  const attacks = examples.filter((e) => e.y === 1).length;
  const benign = examples.length - attacks;
  const tp = examples.filter((e, i) => e.y === 1 && scores[i]! >= 0.5).length;
  const fp = examples.filter((e, i) => e.y === 0 && scores[i]! >= 0.5).length;
  console.log(
    `${label}: recall ${(tp / attacks).toFixed(3)} (${tp}/${attacks}), FPR ${(fp / benign).toFixed(3)} (${fp}/${benign})`,
  );
}

function crossValidate(examples: readonly Example[]): void {
  const rng = seededRandom(SEED ^ 0x5eed);
  const fold = folds(examples, FOLDS, rng);
  const scores = new Array<number>(examples.length).fill(0);
  for (let f = 0; f < FOLDS; f++) {
    const model = fit(
      examples.filter((_, i) => fold[i] !== f),
      rng,
    );
    examples.forEach((e, i) => {
      if (fold[i] === f) scores[i] = score(model, e);
    });
  }
  report(`${FOLDS}-fold CV on train split`, examples, scores);
  examples.forEach((e, i) => {
    const wrong = (scores[i]! >= 0.5 ? 1 : 0) !== e.y;
    if (wrong)
      console.log(`  miss ${e.row.id} ${scores[i]!.toFixed(2)} ${JSON.stringify(e.row.text.slice(0, 90))}`);
  });
}

function writeWeights(model: Fitted, meta: { items: number; sha256: string }): void {
  const round = (x: number) => Number(x.toFixed(4));
  // Written the way Biome formats it, so the generated file passes `biome check` as is.
  const key = (name: string) => (/^[a-z]+$/.test(name) ? name : `'${name}'`);
  const combinerWeights = EVIDENCE_FEATURES.map(
    (name, i) => `      ${key(name)}: ${round(model.combiner.weights[i]!)},`,
  ).join('\n');
  const body = `// biome-ignore-all lint/suspicious/noApproximativeNumericConstant: trained weights, not named constants
/**
 * GENERATED by scripts/train-injection.ts — do not edit; re-run the script.
 * Trained on the ${meta.items} train-split rows of test/fixtures/injection-corpus.jsonl
 * (corpus sha256 ${meta.sha256.slice(0, 16)}…, seed ${SEED}). Holdout rows are never read.
 *
 * ngram: logistic regression over 2^${HASH_BITS} hashed character 3-5-gram and word buckets, int8-quantised
 * (weight = byte × scale), base64. combiner: logistic regression over the evidence features, by name.
 */
export const INJECTION_WEIGHTS = {
  hashBits: ${HASH_BITS},
  ngram: {
    bias: ${round(model.ngram.bias)},
    scale: ${Number(model.quantised.scale.toPrecision(6))},
    int8: '${Buffer.from(model.quantised.bytes.buffer).toString('base64')}',
  },
  combiner: {
    bias: ${round(model.combiner.bias)},
    weights: {
${combinerWeights}
    },
  },
} as const;
`;
  writeFileSync(weightsUrl, body);
}

const { rows, sha256 } = loadTrainRows();
const examples = rows.map(toExample);
if (process.argv.includes('--cv')) {
  crossValidate(examples);
} else {
  const model = fit(examples, seededRandom(SEED));
  report(
    'train split (in-sample)',
    examples,
    examples.map((e) => score(model, e)),
  );
  writeWeights(model, { items: rows.length, sha256 });
  console.log(`wrote ${weightsUrl.pathname}`);
  for (const [name, w] of EVIDENCE_FEATURES.map((n, i) => [n, model.combiner.weights[i]!] as const))
    console.log(`  ${name.padEnd(16)} ${w.toFixed(3)}`);
  console.log(`  ${'bias'.padEnd(16)} ${model.combiner.bias.toFixed(3)}`);
}
