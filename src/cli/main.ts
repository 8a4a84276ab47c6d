/**
 * `glassbox`: the engine from a terminal. Runs in-process (a CLI has no UI thread to protect).
 *
 *   glassbox complete --file F --line L --column C [--workspace DIR | --no-workspace] [--min-confidence X] [--model DIR] [--max-tokens N] [--json]
 *   glassbox generate (--prompt TEXT | --prompt-file F) [--model DIR] [--max-tokens N] [--greedy] [--no-cache] [--json]
 *   glassbox tokenize (--text TEXT | --text-file F) [--model DIR] [--json]
 *   glassbox explain --file F [--start L --end L] [--model DIR] [--max-tokens N]
 *   glassbox info [--model DIR] [--json]
 *   glassbox depend --file F --line L --column C [--workspace DIR | --no-workspace] [--budget-ms N] [--json]
 * Each of complete, explain and info also runs against a model server:
 *   --backend openai|llamacpp|ollama --endpoint URL [--remote-model NAME] [--fim-template FAMILY]
 */
import { parseArgs } from 'node:util';
import { embeddedModelDir, GlassboxError, type CompletionResult, type GenerationResult } from '../engine';
// the in-process engine: the CLI runs the model itself
import { Engine } from '../engine/engine';
import { cappedExplain } from '../remote/cappedExplain';
import { completeInWorkspace, type WorkspaceContextInfo } from './workspace';
import { depend } from './depend';
import { RemoteError } from '../remote/errors';
import { remoteCompleteAt, serverFor } from './remote';
import { readTextFile } from './textFile';

const USAGE = `Usage:
  glassbox complete --file F --line L --column C [--workspace DIR | --no-workspace] [--min-confidence X] [--model DIR] [--max-tokens N] [--json]
  glassbox generate (--prompt TEXT | --prompt-file F) [--model DIR] [--max-tokens N] [--greedy] [--no-cache] [--json]
  glassbox tokenize (--text TEXT | --text-file F) [--model DIR] [--json]
  glassbox explain --file F [--start L --end L] [--model DIR] [--max-tokens N]
  glassbox info [--model DIR] [--json]
  glassbox depend --file F --line L --column C [--workspace DIR | --no-workspace] [--max-tokens N] [--budget-ms N] [--json]
Every command that runs a model also takes --model-file F (which .onnx in a folder that holds several)
and --threads N (ONNX Runtime's intra-op threads; 0, the default, is one per physical core).
Lines and columns are 1-based. The default model is the one embedded in Glassbox. A file argument of - reads
standard input: pass long text that way (ONNX Runtime crashes on command lines of about 29,000 bytes).
complete reads the workspace for context like the extension (default: the file's git root, else its folder).
depend runs the same completion, then ranks what it depended on: each line of the window, each snippet and
each copy source taken out of the model's view in turn (Δ log-probability of the suggestion, nats).
complete, explain and info run on a model server with --backend openai|llamacpp|ollama --endpoint URL
[--remote-model NAME] [--fim-template qwen|starcoder|deepseek|codellama]; the API key comes from GLASSBOX_API_KEY.`;

const OPTIONS = {
  model: { type: 'string' },
  'model-file': { type: 'string' },
  threads: { type: 'string' },
  file: { type: 'string' },
  line: { type: 'string' },
  column: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  prompt: { type: 'string' },
  'prompt-file': { type: 'string' },
  text: { type: 'string' },
  'text-file': { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  seed: { type: 'string' },
  greedy: { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  workspace: { type: 'string' },
  'no-workspace': { type: 'boolean' },
  'min-confidence': { type: 'string' },
  'budget-ms': { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  endpoint: { type: 'string' },
  'remote-model': { type: 'string' },
  'fim-template': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Args = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

class UsageError extends Error {}

function need(args: Args, name: keyof Args): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required.`);
  return v;
}

function int(args: Args, name: keyof Args, fallback?: number): number {
  const v = args[name];
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required.`);
    return fallback;
  }
  // digits only: Number() also takes '0x3', '1e2' and '' (which is 0)
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()))
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}.`);
  return Number(v.trim());
}

function nonNegative(v: string, name: string): number {
  const n = v.trim() === '' ? NaN : Number(v); // Number('') is 0
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} must be a number ≥ 0 (0 is greedy), got ${JSON.stringify(v)}.`);
  return n;
}

function fraction(v: string, name: string): number {
  const n = v.trim() === '' ? NaN : Number(v); // Number('') is 0
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`--${name} must be a number from 0 to 1, got ${JSON.stringify(v)}.`);
  return n;
}

function completionJson(r: CompletionResult & { context: WorkspaceContextInfo }, loadMs: number): string {
  const base = JSON.parse(jsonResult(r, loadMs)) as Record<string, unknown>;
  return JSON.stringify({
    ...base,
    confidence: r.confidence,
    hidden: r.hidden,
    provenance: r.provenance,
    context: r.context,
    prompt: r.prompt,
  });
}

function jsonResult(r: GenerationResult, loadMs: number): string {
  return JSON.stringify({
    text: r.text,
    tokens: r.tokens,
    logprobs: r.logprobs,
    stop_reason: r.stopReason,
    timings: {
      load_ms: round(loadMs),
      prefill_ms: round(r.timings.prefillMs),
      decode_ms: round(r.timings.decodeMs),
      prompt_tokens: r.timings.promptTokens,
      generated_tokens: r.timings.generatedTokens,
    },
  });
}

const round = (x: number) => Math.round(x * 100) / 100;

async function run(argv: string[]): Promise<void> {
  const { values: args, positionals } = parse(argv);
  const command = positionals[0];
  if (args.help || !command) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const known = ['complete', 'generate', 'tokenize', 'explain', 'info', 'demo', 'depend'];
  if (!known.includes(command)) throw new UsageError(`Unknown command "${command}".`);
  if (args.backend && args.backend !== 'embedded') return runRemote(command, args);
  if (args.model !== undefined && args.model.trim() === '')
    throw new UsageError('--model is empty: give a model folder, or leave the option out for the embedded model.');
  const modelFile = args['model-file']?.trim();
  if (args['model-file'] !== undefined && !modelFile)
    throw new UsageError('--model-file is empty: name an .onnx file in the model folder, or leave the option out.');
  const engine = await Engine.load(args.model ?? embeddedModelDir(), {
    onnxFile: modelFile,
    threads: int(args, 'threads', 0),
  });
  const loadMs = engine.model.loadMs;
  try {
    switch (command) {
      case 'complete': {
        const file = need(args, 'file');
        const r = await completeInWorkspace(engine, file, readTextFile(file), int(args, 'line'), int(args, 'column'), {
          workspace: args['no-workspace'] ? null : args.workspace,
          maxNewTokens: int(args, 'max-tokens', 64),
          minConfidence:
            args['min-confidence'] !== undefined ? fraction(args['min-confidence'], 'min-confidence') : undefined,
        });
        if (r.hidden && !args.json)
          process.stderr.write(
            `glassbox: suggestion hidden (${r.hidden.reason}: confidence ${r.confidence.mean.toFixed(2)}): ${JSON.stringify(r.hidden.text)}\n`,
          );
        process.stdout.write(args.json ? completionJson(r, loadMs) + '\n' : r.text + '\n');
        break;
      }
      case 'depend': {
        const file = need(args, 'file');
        const out = await depend(engine, file, readTextFile(file), int(args, 'line'), int(args, 'column'), {
          workspace: args['no-workspace'] ? null : args.workspace,
          maxNewTokens: int(args, 'max-tokens', 64),
          timeBudgetMs: args['budget-ms'] !== undefined ? int(args, 'budget-ms') : undefined,
          json: args.json === true,
        });
        process.stdout.write(out + '\n');
        break;
      }
      case 'generate': {
        const prompt = args['prompt-file'] ? readTextFile(args['prompt-file']) : need(args, 'prompt');
        const temperature = args.greedy
          ? 0
          : args.temperature !== undefined
            ? nonNegative(args.temperature, 'temperature')
            : 0.8;
        const r = await engine.generate(prompt, {
          maxNewTokens: int(args, 'max-tokens', 64),
          temperature,
          topP: 0.95,
          seed: int(args, 'seed', 0),
          reuseCache: !args['no-cache'],
          stopTokenIds: undefined,
        });
        if (r.cutTokens > 0)
          process.stderr.write(
            `glassbox: the prompt was longer than the context; its first ${r.cutTokens} tokens were dropped.\n`,
          );
        process.stdout.write(args.json ? jsonResult(r, loadMs) + '\n' : r.text + '\n');
        break;
      }
      case 'tokenize': {
        const t = engine.tokenize(args['text-file'] ? readTextFile(args['text-file']) : need(args, 'text'));
        process.stdout.write(args.json ? JSON.stringify(t) + '\n' : t.ids.join(' ') + '\n');
        break;
      }
      case 'explain': {
        const text = readTextFile(need(args, 'file'));
        const lines = text.split('\n');
        const start = int(args, 'start', 1);
        const end = int(args, 'end', lines.length);
        if (start < 1 || end < start || start > lines.length || end > lines.length)
          throw new UsageError(`--start/--end must give lines within 1..${lines.length}.`);
        let streamed = 0;
        const r = await engine.explain({
          code: lines.slice(start - 1, end).join('\n'),
          maxNewTokens: int(args, 'max-tokens', 256),
          onToken: (t) => {
            process.stdout.write(t.text);
            streamed += t.text.length;
          },
        });
        process.stdout.write(r.text.slice(streamed) + '\n');
        break;
      }
      case 'info':
        process.stdout.write(JSON.stringify(engine.info(), null, args.json ? 0 : 2) + '\n');
        break;
      case 'demo':
        await demo(engine);
        break;
    }
  } finally {
    await engine.dispose();
  }
}

/** complete, explain and info on a model server. */
async function runRemote(command: string, args: Args): Promise<void> {
  let server;
  try {
    server = serverFor({
      backend: args.backend!,
      endpoint: args.endpoint,
      model: args['remote-model'],
      fimTemplate: args['fim-template'],
    });
  } catch (err) {
    if (err instanceof RemoteError) throw err;
    throw new UsageError((err as Error).message);
  }
  switch (command) {
    case 'complete': {
      const file = need(args, 'file');
      const r = await remoteCompleteAt(server, readTextFile(file), int(args, 'line'), int(args, 'column'), {
        maxNewTokens: int(args, 'max-tokens', 64),
        minConfidence:
          args['min-confidence'] !== undefined ? fraction(args['min-confidence'], 'min-confidence') : undefined,
      });
      if (r.hidden && !args.json)
        process.stderr.write(`glassbox: suggestion hidden (${r.hidden.reason}): ${JSON.stringify(r.hidden.text)}\n`);
      process.stdout.write(
        args.json
          ? JSON.stringify({
              text: r.text,
              hidden: r.hidden,
              confidence: r.confidence,
              timings: r.timings,
              backend: server.kind,
            }) + '\n'
          : r.text + '\n',
      );
      break;
    }
    case 'explain': {
      const lines = readTextFile(need(args, 'file')).split('\n');
      const start = int(args, 'start', 1);
      const end = int(args, 'end', lines.length);
      if (start < 1 || end < start || end > lines.length)
        throw new UsageError(`--start/--end must give lines within 1..${lines.length}.`);
      await cappedExplain(
        server,
        { code: lines.slice(start - 1, end).join('\n'), maxTokens: int(args, 'max-tokens', 256) },
        { onToken: (t) => process.stdout.write(t.text) },
      );
      process.stdout.write('\n');
      break;
    }
    case 'info':
      process.stdout.write(JSON.stringify(await server.info(), null, args.json ? 0 : 2) + '\n');
      break;
    default:
      throw new UsageError(`${command} runs on the embedded model only; leave out --backend.`);
  }
}

/** `npm start` until the extension can open: one completion on a sample, with timings. */
async function demo(engine: Engine): Promise<void> {
  const prefix =
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return ';
  const r = await engine.complete({ prefix, suffix: '\n', maxNewTokens: 24 });
  const info = engine.info();
  process.stdout.write(
    `Glassbox demo: ${info.name} (${info.numLayers} layers, FIM format: ${info.fimFamily}), loaded in ${info.loadMs.toFixed(0)} ms\n\n`,
  );
  process.stdout.write(prefix + '\x1b[2m' + r.text + '\x1b[0m\n\n');
  process.stdout.write(
    `${r.timings.generatedTokens} tokens; prefill ${r.timings.prefillMs.toFixed(1)} ms for ${r.timings.promptTokens} prompt tokens; decode ${r.timings.decodeMs.toFixed(1)} ms\n`,
  );
}

/** The engine's and the servers' messages name VS Code settings; a terminal user has flags instead. */
const CLI_TERMS: [RegExp, string][] = [
  [/\bglassbox\.endpoint\b/g, '--endpoint (or GLASSBOX_ENDPOINT)'],
  [/\bglassbox\.backend\b/g, '--backend'],
  [/\bglassbox\.remote\.model\b/g, '--remote-model'],
  [/\bglassbox\.remote\.fimTemplate\b/g, '--fim-template'],
  [/\bglassbox\.modelPath\b/g, '--model'],
  [/\bglassbox\.modelFile\b/g, '--model-file'],
  [/\bglassbox\.threads\b/g, '--threads'],
  [/\bglassbox\.completion\.minConfidence\b/g, '--min-confidence'],
  [/Run "Glassbox: Set API Key" \(the CLI reads GLASSBOX_API_KEY\)/g, 'Set GLASSBOX_API_KEY'],
  [/(run|Run) "Glassbox: Set API Key"/g, '$1 with GLASSBOX_API_KEY set'],
  [/"Glassbox: Select Model"|Glassbox: Select Model/g, 'glassbox info --backend … (which lists the models)'],
  [/\(http\.proxy\)/g, '(HTTPS_PROXY)'],
  [/\bmaxNewTokens\b/g, '--max-tokens'],
];

function inCliTerms(message: string): string {
  return CLI_TERMS.reduce((m, [from, to]) => m.replace(from, to), message);
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`glassbox: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    const msg =
      err instanceof GlassboxError || err instanceof RemoteError
        ? inCliTerms(err.message)
        : ((err as Error).stack ?? String(err));
    process.stderr.write(`glassbox: ${msg}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
