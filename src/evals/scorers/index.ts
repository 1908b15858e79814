/** The scorers, by kind. */
export { costCeiling, latencyCeiling } from './budget.ts';
export { deepEqual, getPath, jsonFields, jsonSchema, parseJsonOutput } from './json.ts';
export { askJudgeJson, DEFAULT_JUDGE_RETRIES, type JudgeOutcome } from './judge-json.ts';
export { extractNumber, numericTolerance } from './numeric.ts';
export { answerRelevancy } from './rag-answer-relevancy.ts';
export { averagePrecision, contextPrecision } from './rag-context-precision.ts';
export { contextRecall } from './rag-context-recall.ts';
export { faithfulness } from './rag-faithfulness.ts';
export { detectRefusal, REFUSAL_PHRASES, refusal } from './refusal.ts';
export { rubric, rubricVerdictSchema } from './rubric.ts';
export * from './scorer.ts';
export { cosineSimilarity, embeddingSimilarity } from './semantic.ts';
export { contains, exact, lengthBounds, regex } from './text.ts';
export { callArguments, isSubset, stepCeiling, toolArguments, toolOrder, toolUsed } from './trajectory.ts';
