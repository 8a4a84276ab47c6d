/**
 * The engine's public surface: what the rest of src/ imports (the extension host, the CLI, the
 * model-server clients, the costs and the model hub). It holds no runtime: nothing here loads
 * onnxruntime-node, so the extension host's bundle stays free of it and the model runs only in
 * the worker (worker/engineWorker.ts). The one in-process entry is `Engine` in engine.ts, which the
 * CLI, the worker, the benchmarks and the tests load; here it is a type.
 */
export type { CompletionRequest, CompletionResult, ExplainResult, ModelInfo, RequestOptions } from './engine';
export type { Engine } from './engine';
export { cancelled, GlassboxError, isCancellation, type ErrorCode } from './errors';
export type { GeneratedToken, GenerationResult, StopReason } from './generation/generate';

// completions: the shared entry point at a cursor, the rules that shape a suggestion, FIM formats
export type { TokenProvenance } from './completion/completion';
export { completionRule, isMultilineSpot, trimAgainstSuffix } from './completion/completionText';
export { fimFamilyOfModelName, rawFimPrompt, rawFimStops, type FimFamily } from './completion/fim';
export {
  confidenceOf,
  declarationInExpressionCut,
  DEFAULT_MIN_CONFIDENCE,
  lineLengthCut,
  onlyRetypesSuffix,
} from './generation/guards';
export { topIndices } from './generation/sampling';
export { completeAtCursor, planAtCursor, requestAt } from './context/cursorCompletion';
export { answerQueries, stringSource, type ContextQueries, type TextSource } from './context/cursorContext';
export { SnippetIndex } from './context/snippetIndex';
export { CODE_EXTENSIONS, isInside, scanWorkspace, type ScanReport } from './context/workspaceScan';

// explain
export { chatExplainInstruction } from './explain/prompts';

// what a suggestion depended on: the ranking's shape and its words (the ranking runs in the worker)
export {
  describeSpan,
  formatNats,
  nearZero,
  NEAR_ZERO_NATS,
  spanPlace,
  suggestionTokens,
  verdict,
} from './dependence/verdict';
export type {
  DependenceMethod,
  DependenceRequest,
  DependenceResult,
  PromptSpan,
  SpanDependence,
  SpanKind,
} from './dependence/types';

// the workers' host side: clients and their typed messages
export { EngineClient, type CallOptions } from './worker/client';
export type { Params, Result } from './worker/protocol';
export { WorkerRpc, type RpcReply } from './worker/rpc';
export { ContextClient, type ContextAnswer } from './context/worker/client';
export type { ScanRoot } from './context/worker/protocol';

// model folders and files
export { EMBEDDED_MODEL, embeddedModelDir } from './runtime/embedded';
export { listOnnxFiles, locateModelFiles, readModelConfig } from './runtime/modelFolder';
export { readRegularFile } from './runtime/regularFile';
export { describeStages } from './runtime/stageClock';

// attention: the capture's shape and the per-click analysis the view runs on the host
export { lineEdges, queryView } from './attention/analysis';
export { FINAL_TOP_LABELS, type AttentionCapture } from './attention/types';
