/** Each quantized variant in the model folder: file size, speed and perplexity on the bench text. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { listOnnxFiles } from '../src/engine/runtime/modelFolder';
import { generate } from '../src/engine/generation/generate';
import { argmax, logSoftmax } from '../src/engine/generation/sampling';
import { engineSpeed } from './speed';

export interface VariantResult {
  file: string;
  megabytes: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  perplexity: number;
  perplexityTokens: number;
  /** Against the fp32 file (model.onnx), when the folder has one: see greedyAgreement. */
  agreement?: GreedyAgreement;
}

/**
 * How often a variant chooses the token the fp32 model chooses, over `steps` greedy steps after
 * each prompt: teacher-forced (both read the fp32 model's greedy continuation: each step is its own
 * trial) and free-running (each decodes its own continuation: one early difference changes every
 * step after it, so this is the stricter, noisier figure llama.cpp's users see).
 */
export interface GreedyAgreement {
  teacherForced: number;
  freeRunning: number;
  steps: number;
}

const AGREEMENT_STEPS = 32;

async function greedyTokens(model: DecoderModel, prompt: number[]): Promise<number[]> {
  const r = await generate(model, prompt, {
    maxNewTokens: AGREEMENT_STEPS,
    stopTokenIds: [],
    reuseCache: false,
    topAlternatives: 1,
  });
  return r.tokens;
}

/** The fp32 model's greedy continuations of `prompts`, and its argmax along them (teacher-forced). */
async function reference(model: DecoderModel, prompts: number[][]): Promise<{ seqs: number[][]; best: number[][] }> {
  const seqs: number[][] = [];
  const best: number[][] = [];
  for (const p of prompts) {
    const seq = await greedyTokens(model, p);
    const rows = await model.logits([...p, ...seq]);
    seqs.push(seq);
    best.push(seq.map((_, k) => argmax(rows[p.length - 1 + k])));
  }
  return { seqs, best };
}

async function greedyAgreement(
  model: DecoderModel,
  prompts: number[][],
  ref: { seqs: number[][]; best: number[][] },
): Promise<GreedyAgreement> {
  let [forced, free] = [0, 0];
  for (const [i, p] of prompts.entries()) {
    const rows = await model.logits([...p, ...ref.seqs[i]]);
    ref.best[i].forEach((id, k) => (forced += argmax(rows[p.length - 1 + k]) === id ? 1 : 0));
    const own = await greedyTokens(model, p);
    own.forEach((id, k) => (free += id === ref.seqs[i][k] ? 1 : 0));
  }
  return { teacherForced: forced, freeRunning: free, steps: prompts.length * AGREEMENT_STEPS };
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
  // greedy agreement with fp32: prompts of 256 tokens from the bench text
  const prompts = Array.from({ length: windows }, (_, i) => ids.slice(i * windowTokens, i * windowTokens + 256)).filter(
    (p) => p.length === 256,
  );
  const files = listOnnxFiles(dir);
  const fp32File = files.find((f) => /(^|\/)model\.onnx$/.test(f));
  let ref: Awaited<ReturnType<typeof reference>> | undefined;
  if (fp32File) {
    const fp32 = await DecoderModel.load(dir, { onnxFile: fp32File });
    try {
      ref = await reference(fp32, prompts);
    } finally {
      await fp32.dispose();
    }
  }
  for (const file of files) {
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
        ...(ref ? { agreement: await greedyAgreement(model, prompts, ref) } : {}),
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
