// One llama.cpp run for bench/llamaPeer.ts, in a process of its own (its peak RSS is its own):
//   node bench/peers/llamaChild.mjs '<json job>'   -> JSON result on stdout
// job: { gguf, threads, prompt: ids (time to first token), context: ids, steps (decode), rounds,
//        greedy?: ids[][] (greedy tokens for each, `greedySteps` long) }
// node-llama-cpp is ESM only; the bench is CommonJS.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const job = JSON.parse(process.argv[2]);
// the process's own peak: VmHWM belongs to the address space exec made (getrusage's maxRSS
// carries the forking parent's peak over on Linux)
function peakRssMB() {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: job.gguf });
// from the process's start: node, the module and its native library, the model
const loadMs = performance.now();
const ttft = [];
const decode = [];
const greedy = [];
for (let r = 0; r < job.rounds; r++) {
  const ctx = await model.createContext({ contextSize: 1024, threads: job.threads, batchSize: 512 });
  // time to first token: the prompt evaluated and one token chosen
  let start = performance.now();
  for await (const _ of ctx.getSequence().evaluate(job.prompt, { temperature: 0 })) break;
  ttft.push(performance.now() - start);
  await ctx.dispose();
  // decode at a 256-token context: the tokens after the first, per second
  const ctx2 = await model.createContext({ contextSize: 1024, threads: job.threads, batchSize: 512 });
  let n = 0;
  for await (const _ of ctx2.getSequence().evaluate(job.context, { temperature: 0 })) {
    if (n === 0) start = performance.now();
    if (++n > job.steps) break;
  }
  decode.push((job.steps / (performance.now() - start)) * 1000);
  await ctx2.dispose();
}
for (const p of job.greedy ?? []) {
  const ctx = await model.createContext({ contextSize: 1024, threads: job.threads });
  const out = [];
  for await (const t of ctx.getSequence().evaluate(p, { temperature: 0 })) {
    out.push(t);
    if (out.length >= job.greedySteps) break;
  }
  greedy.push(out);
  await ctx.dispose();
}
const result = {
  loadMs,
  ttftMs: median(ttft),
  prefillTokensPerSecond: (job.prompt.length / median(ttft)) * 1000,
  decodeTokensPerSecond: median(decode),
  peakRssMB: peakRssMB(),
  greedy,
};
await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(result));
