/**
 * MatMulNBits' compute precision, set at load: ONNX Runtime's `accuracy_level` attribute says the
 * lowest precision its kernel may use for the activations (0: unset, the kernel's default, fp32;
 * 4: int8, which runs int4 × int8 dot products on CPUs with VNNI and quantizes each activation
 * block to 8 bits). The weights are the same either way; only the A side changes.
 */
import { onnx } from './onnxFile';

export type Int4AccuracyLevel = 0 | 1 | 2 | 3 | 4;

/** Sets `accuracy_level` on every com.microsoft MatMulNBits node; returns how many there were. */
export function setInt4Accuracy(model: onnx.IModelProto, level: Int4AccuracyLevel): number {
  let count = 0;
  for (const node of model.graph?.node ?? []) {
    if (node.opType !== 'MatMulNBits' || node.domain !== 'com.microsoft') continue;
    const attrs = (node.attribute ?? []).filter((a) => a.name !== 'accuracy_level');
    attrs.push(
      onnx.AttributeProto.create({ name: 'accuracy_level', type: onnx.AttributeProto.AttributeType.INT, i: level }),
    );
    node.attribute = attrs;
    count++;
  }
  return count;
}
