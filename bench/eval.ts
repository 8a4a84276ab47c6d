/**
 * `npm run eval`: Glassbox's own model on the corpus' test split, through Glassbox's engine (what
 * users get), next to baselines on the same cases: a 4-gram and the copy baseline. Writes
 * eval.json and eval.md into the model folder and prints the tables.
 *
 *   npm run eval                        the embedded model's default variant, full test split
 *   npm run eval -- --model DIR         another folder (Glassbox's tokenizer and FIM format)
 *   npm run eval -- --before DIR        also every completion stage of an earlier model (e.g. before retraining)
 *   npm run eval -- --quick             40 files, 2 × 100 completion cases, nothing written (a smoke check)
 *   npm run eval -- --cases N           N completion cases per cut kind (nothing written)
 *   npm run eval -- --no-tokens         line completion only (nothing written)
 *   npm run eval -- --quant             the quantization table instead (quant stage, below)
 *   npm run eval -- --data DIR          another recipe data folder (corpus/, tokens/)
 *   npm run eval -- --split valid       the valid split's cases (for fitting: bench/fitJudge.ts), nothing written
 *   npm run eval -- --stages final      only the last two completion stages (copied line, judge)
 *   npm run eval -- --stages ablate     the shipped stage without the guards, with a cut before the
 *                                       first unsure token (lineEval.ts ABLATIONS), and as shipped
 *   npm run eval -- --jsonl FILE        every case of the final stage to FILE (default with a full
 *                                       run: bench/results/eval-cases.jsonl)
 *
 * Needs models/recipe/data/ (corpus.py, then prepare_data.py): test.jsonl for the test split and
 * tokens/train.bin for the n-gram's counts.
 *
 * Metrics
 *   bits per byte       Σ −log2 p(token) / UTF-8 bytes, every file scored as <|endoftext|> + its
 *                       tokens in windows of 1,024 that slide by 512: every prediction is made once,
 *                       with all of the file before it or at least 512 tokens of it as context
 *   top-1 accuracy      argmax = next token, same positions
 *   line completion     CASES lines per cut kind (seed SEED): cut inside the line, and at the start
 *                       of a line after Enter (lineCases.ts), in the repository setting, every system
 *                       and completion stage on the same cases (lineEval.ts); exact match (trailing
 *                       whitespace ignored) and normalized edit similarity 1 − lev(a, b) / max(|a|, |b|)
 *                       of the first line, per cut kind and language, and how many outputs repeat a
 *                       token trigram three times
 *   confidence gate     share of suggestions shown, and their edit similarity and exact match, per
 *                       threshold on the final stage (the setting glassbox.completion.minConfidence)
 * Quant stage: every onnx/ variant's file size, prefill (1,024 tokens) and decode tokens/s through
 * the engine, and validation perplexity (64 windows of 512 tokens of the valid split); the default
 * variant is the smallest within 3% of fp32's perplexity: written to quantization.json and to
 * config.json's transformers.js_config.dtype.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { embeddedModelDir } from '../src/engine/runtime/embedded';
import { Engine } from '../src/engine/engine';
import { DTYPE_SUFFIX, listOnnxFiles } from '../src/engine/runtime/modelFolder';
import { logSoftmax } from '../src/engine/generation/sampling';
import { caseRows, lostCasesMarkdown } from './evalCases';
import { gateDefault, gateMarkdown, LANGS, lineTable, tokenTable, type SystemScores } from './evalTables';
import { sampleLineCases, type CutKind, type TestFile } from './lineCases';
import { surprisalEval } from './surprisalEval';
import {
  ABLATIONS,
  BUDGET,
  gateTable,
  MAX_LINE_TOKENS,
  runLineCases,
  score,
  STAGES,
  type ModelUnderTest,
} from './lineEval';
import { KneserNey4 } from './ngram';
import { perplexity } from './quant';
import { engineSpeed } from './speed';

const SEED = 20240601;
/** Line cases per cut kind. */
const CASES = 500;
const WINDOW = 1024;
const STRIDE = 512;
const EOT = '<|endoftext|>';
const GATE_THRESHOLDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/**
 * The edit similarity at which a shown suggestion is worth as much as nothing: it earns what it
 * gets right beyond this and costs what it misses below it (the reading, the Escape). The gate's
 * default comes from the net worth over all cases, coverage × (ES of shown − this)
 * (evalTables.ts gateDefault); the issue's floor for shown suggestions is the same 0.5.
 */
const GATE_TARGET = 0.5;
/** Cases lost to the copy baseline listed in eval.md. */
const LOST_CASES = 20;

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Bits per byte and top-1 for the transformer (through the engine) and the n-gram, same positions. */
async function tokenMetrics(model: DecoderModel, ngram: KneserNey4, files: TestFile[]) {
  const tok = model.tokenizer;
  const eot = tok.tokenId(EOT)!;
  const acc = { model: { nll: 0, top1: 0 }, ngram: { nll: 0, top1: 0 }, tokens: 0, bytes: 0 };
  for (const f of files) {
    const seq = [eot, ...tok.encode(f.text)];
    acc.bytes += Buffer.byteLength(f.text, 'utf8');
    // Sliding windows (HF's strided perplexity): after the first window, each one scores only the
    // predictions the previous window did not make, so those have STRIDE..WINDOW tokens of context.
    for (let start = 0, scored = 0; scored + 1 < seq.length; start += STRIDE) {
      const win = seq.slice(start, start + WINDOW);
      const rows = await model.logits(win);
      for (let t = scored - start; t + 1 < win.length; t++, scored++) {
        const target = win[t + 1];
        const lp = logSoftmax(rows[t]);
        let best = 0;
        for (let v = 1; v < lp.length; v++) if (lp[v] > lp[best]) best = v;
        acc.model.nll -= lp[target] / Math.LN2;
        acc.model.top1 += best === target ? 1 : 0;
        const ctx = seq.slice(Math.max(0, start + t - 2), start + t + 1);
        acc.ngram.nll -= Math.log2(ngram.prob(ctx, target));
        acc.ngram.top1 += ngram.argmax(ctx) === target ? 1 : 0;
        acc.tokens++;
      }
    }
  }
  const per = (m: { nll: number; top1: number }) => ({ bitsPerByte: m.nll / acc.bytes, top1: m.top1 / acc.tokens });
  return { model: per(acc.model), ngram: per(acc.ngram), tokens: acc.tokens, bytes: acc.bytes };
}

async function quantStage(dir: string, recipeData: string): Promise<void> {
  const valid = new Uint16Array(fs.readFileSync(path.join(recipeData, 'tokens', 'valid.bin')).buffer.slice(0));
  const ids = Array.from(valid.subarray(0, 64 * 512 + 1100));
  const windows = Array.from({ length: 64 }, (_, i) => ids.slice(i * 512, (i + 1) * 512));
  const dtypeOf = Object.fromEntries(Object.entries(DTYPE_SUFFIX).map(([d, s]) => [`onnx/model${s}.onnx`, d]));
  const rows = [];
  for (const file of listOnnxFiles(dir)) {
    const model = await DecoderModel.load(dir, { onnxFile: file });
    try {
      const speed = await engineSpeed(model, ids, 5, 32);
      const p = await perplexity(model, windows);
      const prefill = speed.prefill[String(WINDOW)] ?? Object.values(speed.prefill).at(-1)!;
      rows.push({
        variant: dtypeOf[file] ?? file,
        file,
        bytes: fs.statSync(path.join(dir, file)).size,
        prefill_tok_s: Math.round(prefill.tokensPerSecond),
        prefill_1024_ms: Math.round(prefill.median),
        decode_tok_s: Math.round(speed.decode.tokensPerSecond),
        val_ppl: Number(p.ppl.toFixed(4)),
        val_tokens: p.tokens,
      });
      console.error(JSON.stringify(rows.at(-1)));
    } finally {
      await model.dispose();
    }
  }
  const fp32 = rows.find((r) => r.variant === 'fp32');
  if (!fp32) throw new Error(`${dir}: no fp32 onnx/model.onnx to compare with`);
  const ok = rows.filter((r) => r.val_ppl <= fp32.val_ppl * 1.03).sort((a, b) => a.bytes - b.bytes);
  const chosen = ok[0];
  for (const r of rows)
    Object.assign(r, { ppl_vs_fp32: `${(100 * (r.val_ppl / fp32.val_ppl - 1)).toFixed(2)}%`, default: r === chosen });
  fs.writeFileSync(
    path.join(dir, 'quantization.json'),
    JSON.stringify(
      {
        format: 'glassbox-quantization/1',
        rule: 'default = smallest variant with validation perplexity within 3% of fp32',
        measured: new Date().toISOString(),
        variants: rows,
      },
      null,
      1,
    ) + '\n',
  );
  const cfgPath = path.join(dir, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  cfg['transformers.js_config'] = { dtype: chosen.variant };
  fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  console.log(`default variant: ${chosen.variant} (${chosen.file})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      before: { type: 'string' },
      data: { type: 'string' },
      quick: { type: 'boolean' },
      quant: { type: 'boolean' },
      cases: { type: 'string' },
      'no-tokens': { type: 'boolean' },
      split: { type: 'string' },
      stages: { type: 'string' },
      jsonl: { type: 'string' },
    },
  });
  const root = path.resolve(__dirname, '..', '..');
  const dir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  const data = path.resolve(values.data ?? path.join(root, 'models', 'recipe', 'data'));
  const split = values.split ?? 'test';
  const testPath = path.join(data, 'corpus', `${split}.jsonl`);
  const trainBin = path.join(data, 'tokens', 'train.bin');
  for (const f of [testPath, trainBin]) {
    if (!fs.existsSync(f))
      throw new Error(`${f} is missing: build the corpus and tokens first (models/recipe/build_all.sh corpus data).`);
  }
  if (values.quant) return quantStage(dir, data);
  const quick = values.quick ?? false;
  const write = !quick && !values.cases && !values['no-tokens'] && split === 'test' && !values.stages;
  const stages =
    values.stages === 'final'
      ? STAGES.slice(-2)
      : values.stages === 'ablate'
        ? [...ABLATIONS, STAGES[STAGES.length - 1]]
        : STAGES;
  const allFiles = readJsonl<TestFile>(testPath);
  const perKind = Number(values.cases ?? (quick ? 100 : CASES));
  const cases = [
    ...sampleLineCases(allFiles, perKind, SEED, 'mid'),
    ...sampleLineCases(allFiles, perKind, SEED + 1, 'start'),
  ];
  const tokenFiles = quick ? allFiles.slice(0, 40) : allFiles;

  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const engine = await Engine.load(dir);
  const model = engine.model;
  const train = fs.readFileSync(trainBin);
  const ngram = KneserNey4.train(
    new Uint16Array(train.buffer, train.byteOffset, train.length / 2),
    model.tokenizer.vocabSize,
  );
  console.error(
    `n-gram: ${ngram.sizes.join(' / ')} distinct 1- to 4-grams from ${train.length / 2} tokens (${elapsed()})`,
  );
  const tm = values['no-tokens'] ? null : await tokenMetrics(model, ngram, tokenFiles);
  if (tm) console.error(`token metrics on ${tm.tokens} tokens, ${tm.bytes} bytes (${elapsed()})`);

  const label = path.basename(dir);
  const models: ModelUnderTest[] = [{ label, engine }];
  if (values.before)
    models.unshift({
      label: `${path.basename(values.before)} (before)`,
      engine: await Engine.load(path.resolve(values.before)),
    });
  const outputs = await runLineCases(
    models,
    ngram,
    allFiles,
    cases,
    (done) => {
      if (done % 100 === 0) console.error(`  line completion ${done}/${cases.length} (${elapsed()})`);
    },
    stages,
  );
  const scores = new Map<string, SystemScores>();
  for (const [system, outs] of outputs) {
    const byKind = (k: CutKind | 'all') =>
      Object.fromEntries(
        (['all', ...LANGS] as const).map((lang) => [
          lang,
          score(
            outs,
            cases,
            (c) => (k === 'all' || c.kind === k) && (lang === 'all' || allFiles[c.file].lang === lang),
          ),
        ]),
      );
    scores.set(system, { all: byKind('all'), mid: byKind('mid'), start: byKind('start') } as SystemScores);
  }
  const final = `${label}: ${stages[stages.length - 1].name}`;
  const rows = caseRows(cases, allFiles, outputs.get(final)!, outputs.get('copy (repository)')!);
  const jsonl = values.jsonl ?? (write ? path.join(root, 'bench', 'results', 'eval-cases.jsonl') : undefined);
  if (jsonl) fs.writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const withCopy = rows.filter((r) => r.copy !== '');
  const emptyWhereCopy = withCopy.filter((r) => r.pipeline === '').length / Math.max(1, withCopy.length);
  const gate = gateTable(outputs.get(final)!, cases, 'min', GATE_THRESHOLDS);
  const gateMean = gateTable(outputs.get(final)!, cases, 'mean', GATE_THRESHOLDS);
  const gateFirst = gateTable(outputs.get(final)!, cases, 'first', GATE_THRESHOLDS);
  const gateBoth = gateTable(outputs.get(final)!, cases, 'both', GATE_THRESHOLDS);
  const chosen = gateDefault(gate, GATE_TARGET);
  console.error(`surprisal of injected changes (${elapsed()})`);
  // a run of some stages only (fitting, a quick look) skips it
  const surprising = await surprisalEval(model, allFiles, values.stages ? 0 : quick ? 40 : 300, SEED);
  const examples = cases.slice(0, 12).map((c, i) => ({
    kind: c.kind,
    target: c.target,
    ...Object.fromEntries(
      [...outputs].filter(([k]) => !k.includes(':') || k === final).map(([k, o]) => [k, o[i].text]),
    ),
  }));

  const result = {
    format: 'glassbox-eval/2',
    model: label,
    onnx: path.relative(dir, model.files.onnxPath),
    before: values.before ? path.basename(values.before) : undefined,
    measured: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    test_split: {
      files: tokenFiles.length,
      tokens: tm?.tokens,
      bytes: tm?.bytes,
      line_cases: cases.length,
      line_case_files: allFiles.length,
      seed: SEED,
    },
    settings: {
      window: WINDOW,
      stride: STRIDE,
      prompt_budget_tokens: BUDGET,
      max_line_tokens: MAX_LINE_TOKENS,
      ngram: 'interpolated Kneser–Ney 4-gram on models/recipe/data/tokens/train.bin',
      ngram_sizes: ngram.sizes,
      workspace: "the package's files in the test split",
      stages: STAGES,
    },
    transformer: tm?.model,
    ngram: tm?.ngram,
    line_completion: Object.fromEntries(scores),
    gate: {
      statistic: 'least token probability of the shown tokens (under the mixture that chose them)',
      break_even_edit_similarity: GATE_TARGET,
      rule: 'the lowest threshold whose coverage × (edit similarity of shown − break-even) is within 5% of the best',
      default_threshold: chosen ?? null,
      rows: gate,
      by_mean_probability: gateMean,
      by_first_probability: gateFirst,
      by_mean_and_first: gateBoth,
    },
    surprisal: surprising,
    examples,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  const md = [
    tm ? tokenTable(tm.model, tm.ngram, label) : '',
    tm
      ? `\nTest split: ${tm.bytes.toLocaleString('en')} bytes, ${tm.tokens.toLocaleString('en')} tokens in ${tokenFiles.length} files. Model file: \`${result.onnx}\`.\n`
      : '',
    `### Line completion, repository setting\n\n${cases.length} cases (seed ${SEED}): ${perKind} cut inside a line, ${perKind} at the start of a line after Enter; the workspace is the package's other files in the test split. Edit similarity (ES) and exact match (EM) of the first line.\n`,
    lineTable(scores, cases),
    `\nEmpty suggestions (${final}, no gate) where the copy baseline has an answer: ${(100 * emptyWhereCopy).toFixed(1)}% of ${withCopy.length}.\n`,
    `\n### Confidence gate (${final})\n\nA suggestion is shown when every one of its tokens has at least the threshold's probability; the default is the lowest threshold whose net worth, shown share × (edit similarity of shown − ${GATE_TARGET}), is within 5% of the best: a shown suggestion earns what it gets right beyond half the line and costs what it misses below it, and among thresholds about as good the one that shows the most wins.\n`,
    gateMarkdown(gate, chosen, GATE_TARGET),
    `\n### The ${LOST_CASES} cases lost to the copy baseline by the widest margin\n\nEvery case, with the judge's candidates and their scores: \`bench/results/eval-cases.jsonl\`.\n`,
    lostCasesMarkdown(rows, LOST_CASES),
    `\n### What the model did not expect\n\n${surprising.functions} functions of the test split, each with one change in its code (a swapped operator or literal, or two letters swapped in a name it used earlier; the kind drawn first). The change is among the three most surprising words of the function (surprisal under the model mixed with the copy cache, the file before it as context) in **${(100 * surprising.top3).toFixed(0)}%** of them; three words picked at random would be ${(100 * surprising.chance).toFixed(0)}%. By kind: ${Object.entries(
      surprising.byKind,
    )
      .map(([k, v]) => `${k} ${(100 * v.top3).toFixed(0)}% of ${v.n}`)
      .join(', ')}.\n`,
    `\nThe same with other statistics (shown / edit similarity of shown): ${GATE_THRESHOLDS.map((t, i) => `${t.toFixed(1)}: geometric mean ${(100 * gateMean[i].coverage).toFixed(0)}% / ${gateMean[i].editSimilarity.toFixed(3)}, first ${(100 * gateFirst[i].coverage).toFixed(0)}% / ${gateFirst[i].editSimilarity.toFixed(3)}, mean and first ${(100 * gateBoth[i].coverage).toFixed(0)}% / ${gateBoth[i].editSimilarity.toFixed(3)}`).join('; ')}.\n`,
    '',
  ].join('\n');
  if (write) {
    fs.writeFileSync(path.join(dir, 'eval.json'), JSON.stringify(result, null, 1) + '\n');
    fs.writeFileSync(path.join(dir, 'eval.md'), md);
  }
  console.log(md);
  if (quick) console.log(JSON.stringify(examples, null, 1));
  for (const m of models) await m.engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
