/**
 * Two exports of the same weights, compared through the engine: a before/after for a change in
 * how the recipe writes the ONNX graph (models/recipe/model.py), which `npm run bench` cannot
 * measure because the repository only holds the current export.
 *
 *   node out/bench/graphs.js MODEL_DIR BEFORE.onnx AFTER.onnx [--rounds N]
 *
 * Both files are loaded side by side (paths relative to MODEL_DIR, which supplies the tokenizer and
 * config) and measured in alternating rounds, so that load from other processes falls on both
 * alike: a 1,024-token prefill, and decode steps on a 256- and a 1,024-token cache. Writes
 * bench/results/<date>-graphs.{json,md} and prints the table.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { codeText } from './contexts';
import { decodeStepTimes } from './speed';
import { summarize, time, type Summary } from './stats';

interface Figure {
  name: string;
  before: Summary;
  after: Summary;
}

async function main(): Promise<void> {
  const [dir, beforeFile, afterFile] = process.argv.slice(2);
  if (!dir || !beforeFile || !afterFile)
    throw new Error('usage: node out/bench/graphs.js MODEL_DIR BEFORE.onnx AFTER.onnx [--rounds N]');
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri > 0 ? Number(process.argv[ri + 1]) : 10;
  const root = path.resolve(__dirname, '..', '..');
  const models = [
    await DecoderModel.load(dir, { onnxFile: beforeFile }),
    await DecoderModel.load(dir, { onnxFile: afterFile }),
  ];
  const ids = models[0].tokenizer.encode(codeText(root)).slice(0, 1200);
  const samples = models.map(() => ({ prefill: [] as number[], d256: [] as number[], d1024: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, m] of models.entries()) {
      samples[i].prefill.push((await time(() => m.forward(ids.slice(0, 1024), m.newCache())))[1]);
      samples[i].d256.push(...(await decodeStepTimes(m, ids, 256, 16)));
      samples[i].d1024.push(...(await decodeStepTimes(m, ids, 1024, 16)));
    }
  }
  const figures: Figure[] = [
    { name: 'Prefill 1,024 tokens (ms)', before: summarize(samples[0].prefill), after: summarize(samples[1].prefill) },
    {
      name: 'Decode step, 256-token cache (ms)',
      before: summarize(samples[0].d256),
      after: summarize(samples[1].d256),
    },
    {
      name: 'Decode step, 1,024-token cache (ms)',
      before: summarize(samples[0].d1024),
      after: summarize(samples[1].d1024),
    },
  ];
  for (const m of models) await m.dispose();
  const f = (s: Summary) => `${s.median.toFixed(2)} (p95 ${s.p95.toFixed(2)}, n=${s.runs})`;
  const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
  const md = [
    `Graph export before/after (\`bench/graphs.ts\`), ${stamp} UTC: ${beforeFile} → ${afterFile} in ${dir}, ${rounds} alternating rounds; ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average at start ${os.loadavg()[0].toFixed(2)}.`,
    '',
    '| figure | before | after | after ÷ before |',
    '|---|---|---|---|',
    ...figures.map(
      (x) => `| ${x.name} | ${f(x.before)} | ${f(x.after)} | ${(x.after.median / x.before.median).toFixed(2)} |`,
    ),
    '',
  ].join('\n');
  const out = path.join(root, 'bench', 'results', `${stamp}-graphs`);
  fs.writeFileSync(`${out}.json`, JSON.stringify({ dir, beforeFile, afterFile, rounds, figures }, null, 2) + '\n');
  fs.writeFileSync(`${out}.md`, md);
  console.log(md);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
