/** Public surface of the engine for the CLI, the extension host (through the worker) and tests. */
export {
  Engine,
  type CompletionRequest,
  type CompletionResult,
  type ExplainResult,
  type ModelInfo,
  type RequestOptions,
} from './engine';
export { DecoderModel, type LoadOptions } from './decoder';
export { GlassboxError, isCancellation, type ErrorCode } from './errors';
export {
  generate,
  type GenerateOptions,
  type GenerationResult,
  type GeneratedToken,
  type StopReason,
} from './generate';
export { detectFimTemplate, type FimFamily, type FimTemplate } from './fim';
export { buildFimPrompt } from './fimPrompt';
export { TextTokenizer } from './tokenizer';
export { EMBEDDED_MODEL, embeddedModelDir } from './embedded';
