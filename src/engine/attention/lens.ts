/**
 * Logit lens (nostalgebraist 2020): the model's own final norm and LM head applied to the
 * residual stream after each layer, so each layer's "current guess" for the next token can be
 * read. The final norm + LM head run as a separate small ONNX graph cut from the model (see
 * instrument.ts), so tied or separate heads, RMSNorm or LayerNorm, all compute exactly as in the
 * model; the last layer's lens is the model's logits.
 */
import { halfArrayToFloat32 } from '../onnx/float16';
import { makeTensor, type OrtSession, type Tensor } from '../runtime/ort';
import { topIndices } from '../generation/sampling';

interface LensRows {
  /** Per position: [layers + 1][k] ids and probabilities. */
  ids: Int32Array;
  probs: Float32Array;
}

export function tensorFloat32(t: Tensor): Float32Array {
  return t.type === 'float16' ? halfArrayToFloat32(t.data as Uint16Array) : (t.data as Float32Array);
}

function float32ToHalfBits(x: Float32Array): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from(x, (v) => {
    f[0] = v;
    const b = u[0];
    const sign = (b >>> 16) & 0x8000;
    const exp = ((b >>> 23) & 0xff) - 127 + 15;
    const mant = b & 0x7fffff;
    if (exp <= 0) return sign; // underflow to ±0 (subnormals are not needed for hidden states)
    if (exp >= 31) return sign | 0x7c00;
    return sign | ((exp << 10) + Math.round(mant / 0x2000)); // a rounding carry moves into the exponent
  });
}

/**
 * The most logits one lens run returns: at a vocabulary of 151,936 (Qwen2.5) one (row, layer) is
 * 0.6 MB, and 65 rows of 25 residual streams in one run were a 1 GB transient on top of the model.
 */
const LENS_OUTPUT_BYTES = 32 * 1024 * 1024;

/**
 * Runs the lens on `residuals` (one [1, n, hidden] tensor per residual stream) for the chunk rows
 * in `rows`; returns the top-k per (row, layer) as probabilities after softmax. The (row, layer)
 * pairs go through the lens in runs of at most `maxOutputBytes` of logits.
 */
export async function runLens(
  lens: { session: OrtSession; inputType: 'float32' | 'float16' },
  residuals: Tensor[],
  rows: number[],
  k: number,
  maxOutputBytes = LENS_OUTPUT_BYTES,
): Promise<LensRows> {
  const layers = residuals.length;
  const hidden = residuals[0].dims[residuals[0].dims.length - 1];
  const items = rows.length * layers;
  const input = new Float32Array(items * hidden);
  residuals.forEach((t, l) => {
    const data = tensorFloat32(t);
    rows.forEach((r, i) => input.set(data.subarray(r * hidden, (r + 1) * hidden), (i * layers + l) * hidden));
  });
  const declared = lens.session.outputs[0]?.shape.at(-1);
  // a vocabulary the graph does not declare is learnt from the first run, kept small
  let batch = typeof declared === 'number' && declared > 0 ? Math.floor(maxOutputBytes / (declared * 4)) : 16;
  const ids = new Int32Array(items * k);
  const probs = new Float32Array(items * k);
  for (let first = 0; first < items; first += batch) {
    const n = Math.min(Math.max(1, batch), items - first);
    const slice = input.slice(first * hidden, (first + n) * hidden);
    const dims = [1, n, hidden];
    const feed =
      lens.inputType === 'float32'
        ? makeTensor('float32', slice, dims)
        : makeTensor('float16', float32ToHalfBits(slice), dims);
    const out = await lens.session.run({ [lens.session.inputNames[0]]: feed });
    const logits = tensorFloat32(out[lens.session.outputNames[0]]);
    const vocab = logits.length / n;
    for (let i = 0; i < n; i++) {
      const top = topKSoftmax(logits.subarray(i * vocab, (i + 1) * vocab), k);
      ids.set(top.ids, (first + i) * k);
      probs.set(top.probs, (first + i) * k);
    }
    if (first === 0) batch = Math.max(1, Math.floor(maxOutputBytes / (vocab * 4)));
  }
  return { ids, probs };
}

/** The k most likely ids of softmax(logits) and their probabilities, best first. */
function topKSoftmax(logits: Float32Array, k: number): { ids: Int32Array; probs: Float32Array } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const best = topIndices(logits, k); // logits order = probability order
  return { ids: Int32Array.from(best), probs: Float32Array.from(best, (i) => Math.exp(logits[i] - max) / sum) };
}
