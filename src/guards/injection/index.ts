export { decodeSegments, rot13 } from './decode.ts';
export type { DetectInjectionOptions, InjectionVerdict } from './detect.ts';
export { detectInjection, INJECTION_THRESHOLD } from './detect.ts';
export type { InjectionSource } from './evidence.ts';
export { foldLeetspeak } from './leetspeak.ts';
export type { NormalizedText, ObfuscationSignal } from './normalize.ts';
export { normalizeForDetection } from './normalize.ts';
export { compact, joinSplitWords } from './split-words.ts';
export { foldHomoglyphs, nfkc, stripInvisible } from './unicode-fold.ts';
