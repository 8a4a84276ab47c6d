/**
 * The peer: the same greedy generation through transformers.js (@huggingface/transformers, Node,
 * same model folder, same ONNX file), against Glassbox's engine in the same process.
 */
import * as path from 'node:path';
import type { DecoderModel } from '../src/engine/runtime/decoder';
import { generate } from '../src/engine/generation/generate';
import { rawRunLoop } from './overhead';
import { summarize, type Summary } from './stats';

interface PeerSide {
  ttftMs: Summary;
  decodeTokensPerSecond: Summary;
  tokens: number[];
}

export interface PeerResult {
  dtype: string;
  glassbox: PeerSide;
  transformersJs: PeerSide;
  /** Glassbox ÷ transformers.js (lower is better). */
  ttftRatio: number;
  /** Glassbox ÷ transformers.js (higher is better). */
  decodeRatio: number;
  sameTokens: boolean;
  /** The floor: the same decode steps as plain session.run calls on Glassbox's session (overhead.ts). */
  floorDecodeTokensPerSecond: Summary;
}

/** transformers.js' dtype for one of the transformers.js file names. */
function dtypeOf(onnxPath: string): string {
  const base = path.basename(onnxPath, '.onnx');
  const map: Record<string, string> = {
    model: 'fp32',
    model_quantized: 'q8',
    model_q4: 'q4',
    model_fp16: 'fp16',
    model_int8: 'int8',
  };
  return map[base] ?? 'fp32';
}

export async function peerComparison(
  model: DecoderModel,
  prompt: number[],
  newTokens: number,
  runs: number,
): Promise<PeerResult> {
  const dtype = dtypeOf(model.files.onnxPath);
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = path.dirname(model.files.dir) + path.sep;
  const peer = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(model.files.dir), {
    dtype: dtype as 'fp32',
    device: 'cpu',
  });

  const ours = { ttft: [] as number[], tps: [] as number[], tokens: [] as number[] };
  const floor: number[] = [];
  const theirs = { ttft: [] as number[], tps: [] as number[], tokens: [] as number[] };
  for (let r = 0; r < runs + 1; r++) {
    // Each side starts with its own garbage collected, not the other's: transformers.js leaves
    // every step's whole KV cache (4.6 MB at 1,000 tokens) behind, Glassbox next to nothing, and a
    // collection that the other side's garbage forces lands in whichever side runs next.
    global.gc?.();
    // Glassbox: time to the first streamed token, then the rest.
    let t0 = performance.now();
    let first = 0;
    const g = await generate(model, prompt, {
      maxNewTokens: newTokens,
      stopTokenIds: [],
      reuseCache: false,
      onToken: () => (first ||= performance.now()),
    });
    let end = performance.now();
    if (r > 0) {
      ours.ttft.push(first - t0);
      ours.tps.push(((newTokens - 1) / (end - first)) * 1000);
    }
    ours.tokens = g.tokens;
    // the floor: the same decode steps as plain session.run calls on Glassbox's session
    const raw = await rawRunLoop(model, prompt, g.tokens);
    if (r > 0) floor.push(((newTokens - 1) / raw.decodeMs.reduce((x, y) => x + y, 0)) * 1000);

    global.gc?.();
    // transformers.js: a streamer sees the prompt first, then one put per generated token.
    const puts: number[] = [];
    const streamer = { put: () => puts.push(performance.now()), end: () => undefined };
    const input = new tjs.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
    t0 = performance.now();
    const out = (await peer.generate({
      input_ids: input,
      attention_mask: new tjs.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]),
      max_new_tokens: newTokens,
      min_new_tokens: newTokens,
      do_sample: false,
      streamer,
    } as never)) as { tolist(): bigint[][] };
    end = performance.now();
    const firstToken = puts[1] ?? end;
    if (r > 0) {
      theirs.ttft.push(firstToken - t0);
      theirs.tps.push(((newTokens - 1) / (end - firstToken)) * 1000);
    }
    theirs.tokens = out.tolist()[0].slice(prompt.length).map(Number);
  }
  await peer.dispose();
  const mk = (s: typeof ours): PeerSide => ({
    ttftMs: summarize(s.ttft),
    decodeTokensPerSecond: summarize(s.tps),
    tokens: s.tokens,
  });
  const a = mk(ours);
  const b = mk(theirs);
  return {
    dtype,
    glassbox: a,
    transformersJs: b,
    ttftRatio: a.ttftMs.median / b.ttftMs.median,
    decodeRatio: a.decodeTokensPerSecond.median / b.decodeTokensPerSecond.median,
    sameTokens: JSON.stringify(a.tokens) === JSON.stringify(b.tokens),
    floorDecodeTokensPerSecond: summarize(floor),
  };
}
