/** Keel's eval harness: datasets, scorers, the runner, the gate and its reports. */

export { canonicalJson, shortHash } from './canonical-json.ts';
export { type EvalCase, evalCaseSchema, messageText, questionOf } from './case.ts';
export { caseFromReview, caseFromTrace, type TraceLike } from './converters.ts';
export { datasetVersion, parseDataset, readDatasetFile, serializeDataset, validateCases } from './dataset.ts';
export {
  type AddResult,
  type Dataset,
  DatasetRegistry,
  type DatasetSummary,
  type DatasetVersionInfo,
  DEFAULT_DATASET_ROOT,
} from './dataset-registry.ts';
export { KeelEvalError, type KeelEvalErrorCode } from './errors.ts';
export {
  type Comparison,
  caseMeans,
  type GateOptions,
  type GateVerdict,
  gate,
  type MetricGate,
  type MetricVerdict,
  type SideStats,
} from './gate.ts';
export { formatJson, formatMarkdown, formatTable } from './report.ts';
export { type CaseRow, caseRows, type ReportInput, type ReportRun } from './report-cases.ts';
export { escapeHtml, renderHtml } from './report-html.ts';
export { loadRun, type RunConfig, type RunResult, readResults } from './run-files.ts';
export {
  type InvokeFn,
  type InvokeResult,
  type RunEvalOptions,
  type RunProgress,
  type RunSummary,
  runEval,
} from './runner.ts';
export * from './scorers/index.ts';
export { type BootstrapOptions, bootstrapMeanCI, mean, seededRandom } from './stats.ts';
export { type DiffPart, wordDiff } from './text-diff.ts';
