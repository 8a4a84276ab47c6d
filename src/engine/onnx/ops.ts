/**
 * Operator types the architecture reader classifies nodes by, each set held once so that the
 * parameter scan (params.ts), the residual-stream pattern (patterns.ts), block recognition
 * (blocks.ts) and part assembly (parts.ts) call the same node the same thing. Matched on op type
 * alone: ONNX operators (domain ai.onnx) and ONNX Runtime contrib operators (com.microsoft).
 */

/**
 * A projection by a learned weight matrix (input 1, B or W, is a linear parameter):
 * - MatMul, Gemm (ONNX): plain exports; Gemm also takes a bias (input 2) and transB.
 * - MatMulNBits (contrib): block-quantized int4/int8 weights (GenAI model builder, q4 exports).
 * - MatMulInteger (ONNX): int8 weights from ONNX Runtime's dynamic quantization.
 * - DynamicQuantizeMatMul, MatMulIntegerToFloat (contrib): that quantization's fused forms.
 * - FusedMatMul (contrib): MatMul with a transpose or alpha folded in by the optimizer.
 * - Conv (ONNX): its kernel is a learned projection too (a 1×1 convolution is a MatMul).
 */
export const LINEAR: ReadonlySet<string> = new Set([
  'MatMul',
  'Gemm',
  'MatMulNBits',
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'FusedMatMul',
  'MatMulIntegerToFloat',
  'Conv',
]);

/**
 * Attention in one node (softmax(QKᵀ)V inside; unfused attention is a Softmax between MatMuls):
 * - GroupQueryAttention (contrib): GenAI builder decoders, KV heads shared, optional rotary.
 * - MultiHeadAttention (contrib): Q, K, V given separately.
 * - Attention: contrib (packed QKV weight, BERT/GPT-2 fusions) and ONNX (opset 23) share the name.
 * - PackedAttention (contrib): batches packed without padding.
 * - SparseAttention (contrib): block-sparse attention (Phi-3-small).
 * - PagedAttention (contrib): attention over a paged KV cache (block tables).
 */
export const FUSED_ATTENTION: ReadonlySet<string> = new Set([
  'GroupQueryAttention',
  'MultiHeadAttention',
  'Attention',
  'PackedAttention',
  'SparseAttention',
  'PagedAttention',
]);

/**
 * RMSNorm in one node: SimplifiedLayerNormalization and SkipSimplifiedLayerNormalization (contrib;
 * the Skip form also adds the residual) and ONNX's RMSNormalization (opset 23).
 */
export const RMS_OPS: ReadonlySet<string> = new Set([
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'RMSNormalization',
]);

/** LayerNorm in one node: LayerNormalization (ONNX, opset 17) and SkipLayerNormalization (contrib, adds the residual). */
export const LN_OPS: ReadonlySet<string> = new Set(['LayerNormalization', 'SkipLayerNormalization']);

/** Either norm: their scale (and bias) inputs are norm parameters. */
export const NORM_OPS: ReadonlySet<string> = new Set([...RMS_OPS, ...LN_OPS]);
