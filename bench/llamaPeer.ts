/**
 * llama.cpp as the peer (issue 30): the same model, the same prompt token ids, each engine in a
 * child process of its own (bench/peers/), at 1 and 2 threads: load, time to first token after a
 * 512-token prompt, prefill and decode (256-token context) tokens/s, peak RSS, and how often each
 * engine's 4-bit variant decodes its own fp32 variant's greedy tokens (free-running, 32 steps
 * after 256-token prompts). Glassbox runs the folder's int4 ONNX (MatMulNBits, blocks of 32),
 * llama.cpp a Q4_0 GGUF of the same weights written by models/recipe/gguf_writer.py (cached in
 * bench/.cache/, which needs the recipe's Python: models/recipe/setup.sh).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface EngineRun {
  loadMs: number;
  ttftMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  peakRssMB: number;
  greedy: number[][];
}

export interface LlamaPeerResult {
  promptTokens: number;
  /** The model folder's name; `scale` when it is the 0.5B-shaped model (npm run bench -- --scale). */
  model?: string;
  scale?: boolean;
  rows: { threads: number; glassbox: EngineRun; llama: EngineRun; int8Activations?: EngineRun }[];
  /** Free-running greedy steps where the 4-bit variant chose its fp32 variant's token. */
  agreement: { glassbox: number; llama: number; steps: number; int8Activations?: number };
}

const ROOT = path.join(__dirname, '..', '..');
const GREEDY_STEPS = 32;

/** The model's GGUF of `type`, written once into bench/.cache/ by the recipe's writer. */
function gguf(modelDir: string, type: 'q4_0' | 'f32'): string {
  const name = path.basename(path.resolve(modelDir));
  const built = path.join(modelDir, `${name}-${type}.gguf`); // models/recipe/scale_model.py writes them here
  if (fs.existsSync(built)) return built;
  const out = path.join(ROOT, 'bench', '.cache', `${name}-${type}.gguf`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync(
    '/usr/bin/python3',
    [path.join(ROOT, 'models', 'recipe', 'gguf_writer.py'), '--model-dir', modelDir, '--type', type, '--out', out],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`the recipe's GGUF writer failed (models/recipe/setup.sh installs its Python): ${r.stderr}`);
  return out;
}

function child(command: string[], job: object): EngineRun {
  const r = spawnSync(process.execPath, [...command, JSON.stringify(job)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${path.basename(command[0])} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as EngineRun;
}

const glassbox = (job: object) => child([path.join(ROOT, 'out', 'bench', 'peers', 'glassboxChild.js')], job);
const llama = (job: object) => child([path.join(ROOT, 'bench', 'peers', 'llamaChild.mjs')], job);

function agreeing(a: number[][], b: number[][]): number {
  return a.reduce((n, seq, i) => n + seq.filter((id, k) => id === b[i][k]).length, 0);
}

/**
 * `int8Activations`: also run Glassbox's int4 with MatMulNBits' accuracy_level 4 (int8 activations,
 * set at load), alternated with the others.
 */
export function llamaPeer(
  modelDir: string,
  ids: number[],
  quick: boolean,
  opts: { scale?: boolean; int8Activations?: boolean } = {},
): LlamaPeerResult {
  const q4 = gguf(modelDir, 'q4_0');
  const f32 = gguf(modelDir, 'f32');
  const prompt = ids.slice(0, 512);
  const context = ids.slice(512, 768);
  const prompts = Array.from({ length: quick ? 2 : 6 }, (_, i) => ids.slice(1024 + i * 300, 1024 + i * 300 + 256));
  const job = { prompt, context, steps: quick ? 16 : 64, rounds: quick ? 1 : 5 };
  const int4 = { model: modelDir, onnxFile: 'onnx/model_q4.onnx' };
  const rows: LlamaPeerResult['rows'] = [];
  for (const threads of [1, 2]) {
    // alternate which engine goes first
    const g = () => glassbox({ ...job, threads, ...int4 });
    const l = () => llama({ ...job, threads, gguf: q4 });
    const [first, second] = threads === 1 ? [g(), l()] : [l(), g()];
    const row =
      threads === 1 ? { threads, glassbox: first, llama: second } : { threads, glassbox: second, llama: first };
    rows.push(
      opts.int8Activations
        ? { ...row, int8Activations: glassbox({ ...job, threads, ...int4, accuracyLevel: 4 }) }
        : row,
    );
  }
  const greedy = { ...job, rounds: 0, threads: 2, greedy: prompts, greedySteps: GREEDY_STEPS };
  const gb32 = glassbox({ ...greedy, model: modelDir, onnxFile: 'onnx/model.onnx' }).greedy;
  const gb4 = glassbox({ ...greedy, ...int4 }).greedy;
  const gb4a8 = opts.int8Activations ? glassbox({ ...greedy, ...int4, accuracyLevel: 4 }).greedy : undefined;
  const ll32 = llama({ ...greedy, gguf: f32 }).greedy;
  const ll4 = llama({ ...greedy, gguf: q4 }).greedy;
  return {
    promptTokens: prompt.length,
    model: path.basename(path.resolve(modelDir)),
    ...(opts.scale ? { scale: true } : {}),
    rows,
    agreement: {
      glassbox: agreeing(gb4, gb32),
      llama: agreeing(ll4, ll32),
      steps: prompts.length * GREEDY_STEPS,
      ...(gb4a8 ? { int8Activations: agreeing(gb4a8, gb32) } : {}),
    },
  };
}
