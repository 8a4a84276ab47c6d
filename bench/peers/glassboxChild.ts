/**
 * One Glassbox run for bench/llamaPeer.ts, in a process of its own (its peak RSS is its own), the
 * same job as llamaChild.mjs: node out/bench/peers/glassboxChild.js '<json job>'.
 * job.model is a model folder and job.onnxFile the variant.
 */
import * as fs from 'node:fs';
import { generate } from '../../src/engine/generation/generate';
import { DecoderModel } from '../../src/engine/runtime/decoder';

interface Job {
  model: string;
  onnxFile: string;
  threads: number;
  prompt: number[];
  context: number[];
  steps: number;
  rounds: number;
  greedy?: number[][];
  greedySteps?: number;
  /** MatMulNBits' accuracy_level set at load (src/engine/onnx/matMulNBits.ts). */
  accuracyLevel?: 0 | 4;
}

/**
 * The process's own peak: VmHWM belongs to the address space exec made (getrusage's maxRSS carries
 * the forking parent's peak over on Linux).
 */
function peakRssMB(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const model = await DecoderModel.load(job.model, {
    onnxFile: job.onnxFile,
    threads: job.threads,
    int4AccuracyLevel: job.accuracyLevel,
  });
  // from the process's start: node, the modules and onnxruntime-node's library, the model
  const loadMs = performance.now();
  const [ttft, decode] = [[] as number[], [] as number[]];
  const greedy = { maxNewTokens: 1, stopTokenIds: [], reuseCache: false, topAlternatives: 1 };
  for (let r = 0; r < job.rounds; r++) {
    const start = performance.now();
    await generate(model, job.prompt, greedy);
    ttft.push(performance.now() - start);
    let first = 0;
    await generate(model, job.context, {
      ...greedy,
      maxNewTokens: job.steps + 1,
      onToken: () => (first ||= performance.now()),
    });
    decode.push((job.steps / (performance.now() - first)) * 1000);
  }
  const tokens: number[][] = [];
  for (const p of job.greedy ?? [])
    tokens.push((await generate(model, p, { ...greedy, maxNewTokens: job.greedySteps ?? 32 })).tokens);
  await model.dispose();
  process.stdout.write(
    JSON.stringify({
      loadMs,
      ttftMs: median(ttft),
      prefillTokensPerSecond: (job.prompt.length / median(ttft)) * 1000,
      decodeTokensPerSecond: median(decode),
      peakRssMB: peakRssMB(),
      greedy: tokens,
    }),
  );
}

void main();
