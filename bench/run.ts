/**
 * `npm run bench`: every performance figure Glassbox tracks, measured side by side in one run on
 * this machine, written to bench/results/<date>.json and .md and printed as a table.
 *
 *   npm run bench                  full run (≥ 50 requests per latency figure)
 *   npm run bench -- --quick       fewer runs, for a smoke check
 *   npm run bench -- --model DIR   another model folder (default: the embedded model)
 *   npm run bench -- --scale       only llama.cpp against Glassbox at the 0.5B shape (bench/scale.ts),
 *                                  written to bench/results/<date>-scale.json and .md
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { embeddedModelDir } from '../src/engine/runtime/embedded';
import { EngineClient } from '../src/engine/worker/client';
import { activationTime } from './activation';
import { codeText } from './contexts';
import { decodeFlops, matmulPeakGflops, modelFlops, prefillFlops } from './hardware';
import { completionLatency } from './latency';
import { copyDecodingRows } from './copyDecoding';
import { dependenceBench } from './dependence';
import { optimisations } from './optimisations';
import { overheadOverOrt } from './overhead';
import { llamaPeer } from './llamaPeer';
import { peerComparison } from './peer';
import { scaleModelDir } from './scale';
import { quantizationVariants } from './quant';
import { renderMarkdown, type BenchReport } from './report';
import { endurance, responsiveness } from './responsiveness';
import { decodeStepTimes, engineSpeed } from './speed';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      scale: { type: 'boolean' },
      model: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const root = path.resolve(__dirname, '..', '..');
  const modelDir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  const code = codeText(root);
  // The bundled worker, as the extension runs it (npm run bench builds it first).
  const workerPath = path.join(root, 'dist', 'engineWorker.js');
  const started = new Date();
  const log = (s: string) =>
    process.stderr.write(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0)}s] ${s}\n`);

  const model = await DecoderModel.load(modelDir);
  const ids = model.tokenizer.encode(code);
  const contextTokens = Math.min(1024, model.contextLength - 32);
  const runs = quick ? 5 : 50;
  const report: BenchReport = {
    date: started.toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(os.totalmem() / 1e9),
      node: process.version,
      platform: `${os.platform()}-${os.arch()}`,
    },
    model: { name: model.name, onnx: path.relative(root, model.files.onnxPath), contextLength: model.contextLength },
    conditions: `${quick ? 'quick run' : 'full run'}; other processes on the machine were not stopped (load average at start ${os.loadavg()[0].toFixed(2)})`,
    sections: {},
  };

  const write = (suffix = '') => {
    report.durationSeconds = (Date.now() - started.getTime()) / 1000;
    const dir = path.resolve(values.out ?? path.join(root, 'bench', 'results'));
    fs.mkdirSync(dir, { recursive: true });
    const stamp = started.toISOString().slice(0, 19).replace(/[:T]/g, '-') + suffix;
    const md = renderMarkdown(report);
    fs.writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, `${stamp}.md`), md);
    process.stdout.write(md);
    log(`wrote ${path.join(dir, stamp)}.{json,md}`);
  };

  if (values.scale) {
    // the prompts are the embedded model's token ids of the same code: every id is below the 0.5B vocab
    const scaleDir = scaleModelDir(root, log);
    log('peer: llama.cpp at the 0.5B shape');
    report.model = { name: path.basename(scaleDir), onnx: 'onnx/model_q4.onnx', contextLength: 32768 };
    report.sections.llamaPeer = llamaPeer(scaleDir, ids, quick, { scale: true, int8Activations: true });
    return write('-scale');
  }

  log('completion latency through the worker (cold / warm)');
  const client = new EngineClient({ workerPath });
  await client.load({ modelDir });
  report.sections.latency = await completionLatency(client, code, runs, contextTokens, 16);
  await client.dispose();

  log('engine speed');
  await decodeStepTimes(model, ids, 256, 100); // warm-up: the first ~50 runs on a thread are slow (see latency.ts)
  report.sections.speed = await engineSpeed(model, ids, quick ? 3 : 10, quick ? 16 : 64);

  log('overhead over raw ONNX Runtime');
  report.sections.overhead = await overheadOverOrt(model, ids.slice(0, 256), 16, quick ? 3 : 30);

  log('peer: transformers.js');
  try {
    report.sections.peer = await peerComparison(model, ids.slice(0, 256), 16, quick ? 2 : 15);
  } catch (err) {
    report.sections.peer = { error: `transformers.js could not run this folder: ${(err as Error).message}` };
  }

  log('peer: llama.cpp');
  try {
    report.sections.llamaPeer = llamaPeer(modelDir, ids, quick, { int8Activations: true });
  } catch (err) {
    report.sections.llamaPeer = { error: (err as Error).message.split('\n')[0] };
  }

  log('hardware floor');
  const peak = await matmulPeakGflops();
  const flops = modelFlops(model.config);
  const speed = report.sections.speed;
  const decodeGflops = (decodeFlops(flops, 256) * speed.decode.tokensPerSecond) / 1e9;
  const [prefillLen, prefillS] = Object.entries(speed.prefill).sort((a, b) => Number(b[0]) - Number(a[0]))[0];
  const prefillGflops = prefillFlops(flops, Number(prefillLen)) / (prefillS.median / 1000) / 1e9;
  report.sections.hardware = {
    matmulPeakGflops: peak.gflops,
    matmulSize: peak.n,
    flopsPerDecodeToken: decodeFlops(flops, 256),
    decodeGflops,
    decodeShareOfPeak: decodeGflops / peak.gflops,
    prefillTokens: Number(prefillLen),
    prefillGflops,
    prefillShareOfPeak: prefillGflops / peak.gflops,
  };

  log('optimisations: before / after');
  report.sections.optimisations = await optimisations(
    modelDir,
    path.relative(modelDir, model.files.onnxPath),
    ids,
    code,
    quick,
  );
  log('repository context and copy cache');
  report.sections.optimisations.push(...(await copyDecodingRows(modelDir, root, quick)));

  log('what it depended on (dependence ranking)');
  report.sections.dependence = await dependenceBench(modelDir, root, quick);

  log('quantization variants');
  report.sections.quantization = await quantizationVariants(
    modelDir,
    ids,
    Math.min(512, model.contextLength),
    quick ? 2 : 8,
  );
  await model.dispose();

  log('responsiveness');
  const resp = (report.sections.responsiveness = await responsiveness(workerPath, modelDir, code, quick ? 2 : 5));
  report.sections.optimisations.push({
    name: 'optimized-graph cache',
    figure: 'model load (new worker + session)',
    unit: 'ms',
    before: resp.uncachedLoadMs,
    after: resp.loadMs,
    ratio: resp.loadMs.median / resp.uncachedLoadMs.median,
    note: 'graph optimized and rewritten at every load → read from the graph this machine saved at its first load (src/engine/runtime/graphCache.ts)',
  });

  log('endurance');
  report.sections.endurance = await endurance(workerPath, modelDir, code, quick ? 100 : 1000);

  log('activation in a real VS Code (code-server)');
  report.sections.activation = await activationTime(quick ? 0 : 2).catch((err: Error) => ({ skipped: err.message }));

  write();
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
