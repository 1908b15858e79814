import { createRequire } from 'node:module';

/** The tokenizer's tables cost ~40 MB: loaded on first use, which is only when an upstream omits usage. */
let tokenizer: { countTokens(text: string): number } | undefined;

/** Dollars per million tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Cached (prompt-cache read) input tokens; defaults to the input price. */
  cachedInputPerMTok?: number | undefined;
}

/**
 * List prices of common models, matched by the longest prefix of the upstream model name (so dated
 * versions such as gpt-4o-2024-08-06 resolve). `models.*.pricing` in keel.yaml overrides these.
 */
export const BUILT_IN_PRICES: Record<string, Price> = {
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025 },
  o3: { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4, cachedInputPerMTok: 0.275 },
  'text-embedding-3-small': { inputPerMTok: 0.02, outputPerMTok: 0 },
  'text-embedding-3-large': { inputPerMTok: 0.13, outputPerMTok: 0 },
  'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
  'claude-3-7-sonnet': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
  'claude-3-5-sonnet': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
  'claude-haiku-4': { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1 },
  'claude-3-5-haiku': { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08 },
};

export interface TokenCount {
  input: number;
  output: number;
  /** Of `input`, how many were read from the provider's prompt cache. */
  cached: number;
}

/** Cached tokens are part of input; they are priced once, at the cached rate, never twice. */
export function costUsd(tokens: TokenCount, price: Price | undefined): number {
  if (!price) return 0;
  const cached = Math.min(tokens.cached, tokens.input);
  const fresh = tokens.input - cached;
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  return (
    (fresh * price.inputPerMTok + cached * cachedPrice + tokens.output * price.outputPerMTok) / 1_000_000
  );
}

/** Resolves a price per Keel model: config first, then the built-in table by upstream name. */
export class PriceBook {
  /** Resolved prices per model: the built-in table is a prefix scan, and every attempt asks. */
  private resolved = new Map<string, Price | undefined>();

  constructor(private configured: Map<string, { upstream: string; price?: Price | undefined }>) {}

  /** A reloaded config's models. */
  replace(configured: Map<string, { upstream: string; price?: Price | undefined }>): void {
    this.configured = configured;
    this.resolved = new Map();
  }

  priceOf(model: string): Price | undefined {
    const known = this.resolved.get(model);
    if (known !== undefined || this.resolved.has(model)) return known;
    const entry = this.configured.get(model);
    if (!entry) return undefined;
    const price = entry.price ?? builtInPrice(entry.upstream);
    this.resolved.set(model, price);
    return price;
  }
}

export function builtInPrice(upstream: string): Price | undefined {
  const name = upstream.toLowerCase().replace(/^.*\//, '');
  let best: string | undefined;
  for (const prefix of Object.keys(BUILT_IN_PRICES)) {
    if (name.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : BUILT_IN_PRICES[best];
}

/** Token count of a text with the o200k tokenizer: an estimate for models that use another one. */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  tokenizer ??= createRequire(import.meta.url)('gpt-tokenizer') as { countTokens(text: string): number };
  // BPE is quadratic on long runs without spaces (base64, minified code): count those as chars / 4.
  let runs = 0;
  const rest = text.replace(/\S{200,}/g, (run) => {
    runs += Math.ceil(run.length / 4);
    return ' ';
  });
  return runs + tokenizer.countTokens(rest);
}
