// llama.cpp (through node-llama-cpp, CPU) on token ids: for each prompt, the greedy tokens.
//   node test/llama/greedy.mjs model.gguf prompts.json steps   -> JSON [[id, ...], ...] on stdout
// An ES module of its own: node-llama-cpp is ESM only, and the unit tests are CommonJS.
import { readFileSync } from 'node:fs';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const [modelPath, promptsFile, steps] = process.argv.slice(2);
const prompts = JSON.parse(readFileSync(promptsFile, 'utf8'));
// prebuilt binaries only ('never' builds), no GPU: the same CPU path on every machine
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const out = [];
for (const prompt of prompts) {
  const context = await model.createContext({ contextSize: 1024, threads: 2 });
  const tokens = [];
  for await (const t of context.getSequence().evaluate(prompt, { temperature: 0 })) {
    tokens.push(t);
    if (tokens.length >= Number(steps)) break;
  }
  out.push(tokens);
  await context.dispose();
}
process.stdout.write(JSON.stringify(out));
await model.dispose();
await llama.dispose();
