/**
 * The hardware floor: the model's FLOPs per token (from its architecture numbers) divided by the
 * measured time, as a share of this CPU's peak — measured in the same run by ONNX Runtime
 * multiplying two fp32 matrices (the same GEMM kernels the model runs on).
 */
import { encodeModelProto, onnx } from '../src/engine/onnx/onnxFile';
import type { ModelConfig } from '../src/engine/runtime/modelFolder';
import { makeTensor, OrtSession } from '../src/engine/runtime/ort';
import { summarize, time } from './stats';

interface ModelFlops {
  /** Multiply-adds ×2 of every weight matrix for one token (the LM head included). */
  matmulPerToken: number;
  /** Attention scores and weighted sum for one token at context position t: 4·layers·heads·headDim·t. */
  attentionPerPosition: number;
}

export function modelFlops(c: ModelConfig): ModelFlops {
  const d = c.hiddenSize!;
  const h = c.numHeads!;
  const kv = c.numKvHeads ?? h;
  const hd = c.headDim ?? d / h;
  const ff = c.intermediateSize!;
  const perLayer = 2 * (d * h * hd + 2 * d * kv * hd + h * hd * d + 3 * d * ff);
  return {
    matmulPerToken: c.numLayers! * perLayer + 2 * d * c.vocabSize!,
    attentionPerPosition: 4 * c.numLayers! * h * hd,
  };
}

/** FLOPs to decode one token with `context` positions before it. */
export const decodeFlops = (f: ModelFlops, context: number) => f.matmulPerToken + f.attentionPerPosition * context;
/** FLOPs to prefill `n` tokens (causal: position t attends to t+1 positions). */
export const prefillFlops = (f: ModelFlops, n: number) =>
  n * f.matmulPerToken + (f.attentionPerPosition * n * (n + 1)) / 2;

/** Peak fp32 GFLOP/s of ONNX Runtime's MatMul on this machine, all cores. */
export async function matmulPeakGflops(n = 512, runs = 30): Promise<{ gflops: number; n: number; runs: number }> {
  const weights = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const graph = onnx.GraphProto.create({
    name: 'matmul',
    node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'mm' })],
    initializer: [
      onnx.TensorProto.create({
        name: 'b',
        dims: [n, n],
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(weights.buffer),
      }),
    ],
    input: [valueInfo('a', n)],
    output: [valueInfo('c', n)],
  });
  const bytes = encodeModelProto(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph }),
  );
  const session = await OrtSession.create(bytes, {}, 'matmul micro-benchmark');
  const a = makeTensor('float32', weights.slice(), [n, n]);
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const [, ms] = await time(() => session.run({ a }));
    if (i >= 3) times.push(ms);
  }
  await session.release();
  const best = summarize(times).min; // peak: the fastest run
  return { gflops: (2 * n ** 3) / (best / 1000) / 1e9, n, runs };
}

function valueInfo(name: string, n: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } },
    },
  };
}
