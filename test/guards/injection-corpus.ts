/** Loads test/fixtures/injection-corpus.jsonl and scores it: shared by the injection tests. */
import { readFileSync } from 'node:fs';
import { detectInjection } from '../../src/guards/injection/index.ts';

export interface CorpusRow {
  id: string;
  text: string;
  label: 'attack' | 'benign';
  category: string;
  split: 'train' | 'holdout';
  source?: 'user' | 'document' | 'tool';
  lang?: string;
}

export function loadCorpus(file = 'injection-corpus.jsonl'): CorpusRow[] {
  return readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusRow);
}

export interface Tally {
  attacks: number;
  caught: number;
  benign: number;
  falsePositives: number;
  misses: string[];
}

export function tally(rows: readonly CorpusRow[]): Tally {
  const t: Tally = { attacks: 0, caught: 0, benign: 0, falsePositives: 0, misses: [] };
  for (const row of rows) {
    const { flagged, score } = detectInjection(row.text, { source: row.source ?? 'user' });
    if (row.label === 'attack') {
      t.attacks += 1;
      if (flagged) t.caught += 1;
      else t.misses.push(`${row.id} (missed, ${score.toFixed(2)})`);
    } else {
      t.benign += 1;
      if (flagged) {
        t.falsePositives += 1;
        t.misses.push(`${row.id} (false positive, ${score.toFixed(2)})`);
      }
    }
  }
  return t;
}

export const recall = (t: Tally) => (t.attacks === 0 ? 1 : t.caught / t.attacks);
export const falsePositiveRate = (t: Tally) => (t.benign === 0 ? 0 : t.falsePositives / t.benign);
