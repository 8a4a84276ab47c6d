/** Each quantized variant in the model folder: file size, speed and perplexity on the bench text. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { listOnnxFiles } from '../src/engine/runtime/modelFolder';
import { logSoftmax } from '../src/engine/generation/sampling';
import { engineSpeed } from './speed';

export interface VariantResult {
  file: string;
  megabytes: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  perplexity: number;
  perplexityTokens: number;
}

/** exp(mean negative log-likelihood) of `windows`, each scored from its own start. */
export async function perplexity(model: DecoderModel, windows: number[][]): Promise<{ ppl: number; tokens: number }> {
  let nll = 0;
  let n = 0;
  for (const w of windows) {
    const rows = await model.logits(w);
    for (let t = 0; t + 1 < w.length; t++) {
      nll -= logSoftmax(rows[t])[w[t + 1]];
      n++;
    }
  }
  return { ppl: Math.exp(nll / n), tokens: n };
}

export async function quantizationVariants(
  dir: string,
  ids: number[],
  windowTokens: number,
  windows: number,
): Promise<VariantResult[]> {
  const out: VariantResult[] = [];
  for (const file of listOnnxFiles(dir)) {
    const model = await DecoderModel.load(dir, { onnxFile: file });
    try {
      const size = fs.statSync(path.join(dir, file)).size + dataSize(dir, file);
      const speed = await engineSpeed(model, ids, 3, 32);
      const chunks = Array.from({ length: windows }, (_, i) =>
        ids.slice(i * windowTokens, (i + 1) * windowTokens),
      ).filter((c) => c.length === windowTokens);
      const p = await perplexity(model, chunks);
      const prefillKey = Object.keys(speed.prefill).sort((a, b) => Number(b) - Number(a))[0];
      out.push({
        file,
        megabytes: size / 1e6,
        prefillTokensPerSecond: speed.prefill[prefillKey].tokensPerSecond,
        decodeTokensPerSecond: speed.decode.tokensPerSecond,
        perplexity: p.ppl,
        perplexityTokens: p.tokens,
      });
    } finally {
      await model.dispose();
    }
  }
  return out;
}

/** External data files next to the .onnx count towards its size. */
function dataSize(dir: string, file: string): number {
  const data = path.join(dir, file + '_data');
  return fs.existsSync(data) ? fs.statSync(data).size : 0;
}
