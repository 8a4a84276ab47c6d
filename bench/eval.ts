/**
 * `npm run eval`: Glassbox's own model on the corpus' test split, through Glassbox's engine (what
 * users get), next to an n-gram baseline on the same tokens. Writes eval.json and eval.md into the
 * model folder and prints the table.
 *
 *   npm run eval                        the embedded model's default variant, full test split
 *   npm run eval -- --model DIR         another folder (Glassbox's tokenizer and FIM format)
 *   npm run eval -- --quick             40 files, 100 completion cases, nothing written (a smoke check)
 *   npm run eval -- --quant             the quantization table instead (quant stage, below)
 *   npm run eval -- --data DIR          another recipe data folder (corpus/, tokens/)
 *
 * Needs models/recipe/data/ (corpus.py, then prepare_data.py): test.jsonl for the test split and
 * tokens/train.bin for the n-gram's counts.
 *
 * Metrics
 *   bits per byte       Σ −log2 p(token) / UTF-8 bytes, every file scored as <|endoftext|> + its
 *                       tokens in windows of 1,024 that slide by 512: every prediction is made once,
 *                       with all of the file before it or at least 512 tokens of it as context
 *   top-1 accuracy      argmax = next token, same positions
 *   line completion     CASES lines (seed SEED), cut at a uniform point inside the line's text;
 *                       Engine.complete with the prefix, the following lines as FIM suffix, a
 *                       1,024-token prompt budget (the extension's default), greedy, stopped at the
 *                       newline (the editor's bracket rule is off: it assumes auto-closed brackets);
 *                       exact match (trailing whitespace ignored) and normalized edit similarity
 *                       1 − lev(a, b) / max(|a|, |b|). The n-gram continues the same prefix tokens
 *                       greedily to the end of the line (it cannot use the suffix).
 * Quant stage: every onnx/ variant's file size, prefill (1,024 tokens) and decode tokens/s through
 * the engine, and validation perplexity (64 windows of 512 tokens of the valid split); the default
 * variant is the smallest within 3% of fp32's perplexity: written to quantization.json and to
 * config.json's transformers.js_config.dtype.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DecoderModel } from '../src/engine/decoder';
import { embeddedModelDir } from '../src/engine/embedded';
import { Engine } from '../src/engine/engine';
import { DTYPE_SUFFIX, listOnnxFiles } from '../src/engine/modelFolder';
import { logSoftmax, seededRandom } from '../src/engine/sampling';
import type { TextTokenizer } from '../src/engine/tokenizer';
import { KneserNey4 } from './ngram';
import { perplexity } from './quant';
import { engineSpeed } from './speed';

const SEED = 20240601;
const CASES = 1000;
const WINDOW = 1024;
const STRIDE = 512;
const BUDGET = 1024;
const MAX_LINE_TOKENS = 48;
const EOT = '<|endoftext|>';

interface TestFile {
  path: string;
  lang: string;
  text: string;
}

interface LineCase {
  file: number;
  prefix: string;
  suffix: string;
  target: string;
}

interface Scores {
  bitsPerByte: number;
  top1: number;
  exactMatch: number;
  editSimilarity: number;
}

function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** Levenshtein distance over UTF-16 code units. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function editSimilarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

/** CASES (file, line, cut) draws, uniform over lines with at least 4 non-blank characters. */
export function sampleLineCases(files: TestFile[], count: number, seed: number): LineCase[] {
  const random = seededRandom(seed);
  const lines: [number, number, number][] = []; // file, line start offset, line end offset
  files.forEach((f, i) => {
    let start = 0;
    for (const line of f.text.split('\n')) {
      if (line.trim().length >= 4) lines.push([i, start, start + line.length]);
      start += line.length + 1;
    }
  });
  const picked = new Set<number>();
  const out: LineCase[] = [];
  while (out.length < Math.min(count, lines.length)) {
    const k = Math.floor(random() * lines.length);
    if (picked.has(k)) continue;
    picked.add(k);
    const [fi, s, e] = lines[k];
    const text = files[fi].text;
    const line = text.slice(s, e).replace(/\r$/, '');
    const indent = line.length - line.trimStart().length;
    const body = line.trimEnd().length;
    const cut = indent + 1 + Math.floor(random() * (body - indent - 1)); // ≥ 1 char typed, ≥ 1 left
    out.push({ file: fi, prefix: text.slice(0, s + cut), suffix: text.slice(e), target: line.slice(cut).trimEnd() });
  }
  return out;
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return (nl < 0 ? s : s.slice(0, nl)).replace(/\r$/, '').trimEnd();
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

function ngramLine(ngram: KneserNey4, tok: TextTokenizer, prefix: string): string {
  const eot = tok.tokenId(EOT)!;
  const ids = [eot, ...tok.encode(prefix)];
  const out: number[] = [];
  for (let i = 0; i < MAX_LINE_TOKENS; i++) {
    const next = ngram.argmax([...ids, ...out].slice(-3));
    if (next === eot) break;
    out.push(next);
    if (tok.decode(out).includes('\n')) break;
  }
  return firstLine(tok.decode(out));
}

async function lineMetrics(engine: Engine, ngram: KneserNey4, cases: LineCase[]) {
  const sum = { model: { em: 0, es: 0 }, ngram: { em: 0, es: 0 } };
  const examples: { target: string; model: string; ngram: string }[] = [];
  for (const [i, c] of cases.entries()) {
    // shaping off: the editor rule that stops before a bracket closing one opened before the cursor
    // assumes the editor auto-closed it, but here the rest of the line is what is scored
    const r = await engine.complete({ prefix: c.prefix, suffix: c.suffix, budgetTokens: BUDGET, maxNewTokens: MAX_LINE_TOKENS, shaping: false, stopStrings: ['\n'], temperature: 0 });
    const m = firstLine(r.text);
    const n = ngramLine(ngram, engine.model.tokenizer, c.prefix);
    sum.model.em += m === c.target ? 1 : 0;
    sum.model.es += editSimilarity(m, c.target);
    sum.ngram.em += n === c.target ? 1 : 0;
    sum.ngram.es += editSimilarity(n, c.target);
    if (i < 12) examples.push({ target: c.target, model: m, ngram: n });
    if ((i + 1) % 100 === 0) console.error(`  line completion ${i + 1}/${cases.length}`);
  }
  const per = (s: { em: number; es: number }) => ({ exactMatch: s.em / cases.length, editSimilarity: s.es / cases.length });
  return { model: per(sum.model), ngram: per(sum.ngram), examples };
}

function table(model: Scores, ngram: Scores): string {
  const rows: [string, keyof Scores, boolean][] = [
    ['bits per byte (lower is better)', 'bitsPerByte', false],
    ['next-token top-1 accuracy', 'top1', true],
    ['line completion exact match', 'exactMatch', true],
    ['line completion edit similarity', 'editSimilarity', true],
  ];
  const fmt = (k: keyof Scores, v: number) => (k === 'bitsPerByte' ? v.toFixed(3) : `${(100 * v).toFixed(1)}%`);
  const lines = ['| metric | glassbox-code | 4-gram KN | transformer vs n-gram |', '|---|---|---|---|'];
  for (const [label, k, higher] of rows) {
    const d = model[k] - ngram[k];
    const better = higher ? d > 0 : d < 0;
    const delta = k === 'bitsPerByte' ? `${d.toFixed(3)} (${((100 * d) / ngram[k]).toFixed(1)}%)` : `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} points (×${(model[k] / Math.max(ngram[k], 1e-9)).toFixed(2)})`;
    lines.push(`| ${label} | ${fmt(k, model[k])} | ${fmt(k, ngram[k])} | ${delta}${better ? '' : ' — NOT better'} |`);
  }
  return lines.join('\n');
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
      rows.push({ variant: dtypeOf[file] ?? file, file, bytes: fs.statSync(path.join(dir, file)).size, prefill_tok_s: Math.round(prefill.tokensPerSecond), prefill_1024_ms: Math.round(prefill.median), decode_tok_s: Math.round(speed.decode.tokensPerSecond), val_ppl: Number(p.ppl.toFixed(4)), val_tokens: p.tokens });
      console.error(JSON.stringify(rows.at(-1)));
    } finally {
      await model.dispose();
    }
  }
  const fp32 = rows.find((r) => r.variant === 'fp32');
  if (!fp32) throw new Error(`${dir}: no fp32 onnx/model.onnx to compare with`);
  const ok = rows.filter((r) => r.val_ppl <= fp32.val_ppl * 1.03).sort((a, b) => a.bytes - b.bytes);
  const chosen = ok[0];
  for (const r of rows) Object.assign(r, { ppl_vs_fp32: `${(100 * (r.val_ppl / fp32.val_ppl - 1)).toFixed(2)}%`, default: r === chosen });
  fs.writeFileSync(path.join(dir, 'quantization.json'), JSON.stringify({ format: 'glassbox-quantization/1', rule: 'default = smallest variant with validation perplexity within 3% of fp32', measured: new Date().toISOString(), variants: rows }, null, 1) + '\n');
  const cfgPath = path.join(dir, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  cfg['transformers.js_config'] = { dtype: chosen.variant };
  fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  console.log(`default variant: ${chosen.variant} (${chosen.file})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, quick: { type: 'boolean' }, quant: { type: 'boolean' }, cases: { type: 'string' } } });
  const root = path.resolve(__dirname, '..', '..');
  const dir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  const data = path.resolve(values.data ?? path.join(root, 'models', 'recipe', 'data'));
  const testPath = path.join(data, 'corpus', 'test.jsonl');
  const trainBin = path.join(data, 'tokens', 'train.bin');
  for (const f of [testPath, trainBin]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build the corpus and tokens first (models/recipe/build_all.sh corpus data).`);
  }
  if (values.quant) return quantStage(dir, data);
  const quick = values.quick ?? false;
  let files = readJsonl<TestFile>(testPath);
  const cases = sampleLineCases(files, Number(values.cases ?? (quick ? 100 : CASES)), SEED);
  const lineFiles = files;
  if (quick) files = files.slice(0, 40);

  const t0 = performance.now();
  const engine = await Engine.load(dir);
  const model = engine.model;
  const vocab = model.tokenizer.vocabSize;
  const train = fs.readFileSync(trainBin);
  const ngram = KneserNey4.train(new Uint16Array(train.buffer, train.byteOffset, train.length / 2), vocab);
  console.error(`n-gram: ${ngram.sizes.join(' / ')} distinct 1- to 4-grams from ${train.length / 2} tokens (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const tm = await tokenMetrics(model, ngram, files);
  console.error(`token metrics on ${tm.tokens} tokens, ${tm.bytes} bytes (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const lm = await lineMetrics(engine, ngram, cases);
  const result = {
    format: 'glassbox-eval/1',
    model: path.basename(dir),
    onnx: path.relative(dir, model.files.onnxPath),
    measured: new Date().toISOString(),
    test_split: { files: files.length, tokens: tm.tokens, bytes: tm.bytes, line_cases: cases.length, line_case_files: lineFiles.length, seed: SEED },
    settings: { window: WINDOW, stride: STRIDE, prompt_budget_tokens: BUDGET, max_line_tokens: MAX_LINE_TOKENS, ngram: 'interpolated Kneser–Ney 4-gram on models/recipe/data/tokens/train.bin', ngram_sizes: ngram.sizes },
    transformer: { ...tm.model, ...lm.model },
    ngram: { ...tm.ngram, ...lm.ngram },
    examples: lm.examples,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  const md = `${table(result.transformer, result.ngram)}\n\nTest split: ${tm.bytes.toLocaleString('en')} bytes, ${tm.tokens.toLocaleString('en')} tokens in ${files.length} files; ${cases.length} line-completion cases (seed ${SEED}). Model file: \`${result.onnx}\`.\n`;
  if (!quick) {
    fs.writeFileSync(path.join(dir, 'eval.json'), JSON.stringify(result, null, 1) + '\n');
    fs.writeFileSync(path.join(dir, 'eval.md'), md);
  }
  console.log(md);
  if (quick) console.log(JSON.stringify(lm.examples, null, 1));
  await model.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
