/**
 * Fits the copy cache's mixing weights (src/engine/copyCache.ts) for a model, on the corpus'
 * validation split (packages the model never trained on, and not the test split the eval reports):
 *
 *   npm run compile && node out/bench/fitCopyCache.js [--model DIR] [--cases N]
 *
 * Line cases as in the eval (cut inside a line and at a line's start, the package's files as the
 * workspace), prompts as the extension builds them. Each case's true continuation is fed to the
 * model after its prompt (teacher forcing), and at every one of its tokens the model's probability
 * of the true token and the cache's prediction are recorded. Then, per bucket of (match length,
 * purity), λ maximizes Σ log((1 − λ)·p_model + λ·p_cache) over the bucket's tokens: EM on the
 * two-component mixture, λ ← mean of λ·p_cache / p_mixture. Buckets with few tokens keep the
 * default. Writes <model>/copy_cache.json and prints the table with the tokens per bucket.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { answerQueries, cursorQueries, stringSource } from '../src/engine/context/cursorContext';
import { SnippetIndex } from '../src/engine/context/snippetIndex';
import { bucket, CopyCache, DEFAULT_COPY_TABLE, spaceInsensitiveIds, type CopyCacheTable } from '../src/engine/copyCache';
import { vocabularyTexts } from '../src/engine/tokenChoice';
import { embeddedModelDir } from '../src/engine/embedded';
import { Engine } from '../src/engine/engine';
import { buildFimPrompt } from '../src/engine/fimPrompt';
import { logSumExp } from '../src/engine/sampling';
import { sampleLineCases, type TestFile } from './lineCases';
import { BUDGET } from './lineEval';

const SEED = 777;
/** A bucket needs this many tokens for its own weight. */
const MIN_TOKENS = 40;

interface Observation {
  cell: [number, number, number];
  pModel: number;
  pCache: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, cases: { type: 'string', default: '300' }, data: { type: 'string' } } });
  const dir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  const data = path.resolve(values.data ?? path.join(__dirname, '..', '..', 'models', 'recipe', 'data'));
  const files = fs.readFileSync(path.join(data, 'corpus', 'valid.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TestFile);
  const n = Number(values.cases);
  const cases = [...sampleLineCases(files, n, SEED, 'mid'), ...sampleLineCases(files, n, SEED + 1, 'start')];
  const engine = await Engine.load(dir);
  const model = engine.model;
  const tok = model.tokenizer;
  const table = DEFAULT_COPY_TABLE;
  const indexes = new Map<string, SnippetIndex>();
  const obs: Observation[] = [];
  const t0 = performance.now();
  for (const [i, c] of cases.entries()) {
    const f = files[c.file];
    let index = indexes.get(f.package);
    if (!index) {
      index = new SnippetIndex();
      for (const g of files) if (g.package === f.package) index.setFile(g.path, g.text);
      indexes.clear();
      indexes.set(f.package, index);
    }
    const { window: w, queries } = cursorQueries(stringSource(c.prefix + c.suffix), c.line, c.prefix.length, f.path, BUDGET);
    const found = answerQueries(index, queries);
    const prompt = buildFimPrompt(tok, engine.fim, { prefix: w.prefix, suffix: w.suffix, budgetTokens: BUDGET, path: f.path, snippets: found.snippets, heal: true });
    const target = tok.encode(prompt.healText + c.target).slice(0, 64);
    if (target.length === 0) continue;
    const sources: number[] = [];
    for (const s of found.copySources) sources.push(model.eosTokenIds[0] ?? 0, ...tok.encode(s.text));
    const seq = [...prompt.ids, ...target];
    if (seq.length >= model.contextLength) continue;
    const rows = await model.logits(seq.slice(0, -1));
    const cache = new CopyCache([...sources, ...prompt.ids], tok.specialIds, table, spaceInsensitiveIds(vocabularyTexts(tok)));
    for (let j = 0; j < target.length; j++) {
      const row = rows[prompt.ids.length - 1 + j];
      const pModel = Math.exp(row[target[j]] - logSumExp(row));
      const pred = cache.predict();
      if (pred) {
        const pCache = pred.candidates.find((x) => x.id === target[j])?.p ?? 0;
        const support = Math.exp(row[pred.candidates[0].id] - logSumExp(row));
        obs.push({ cell: [bucket(table.lengthBuckets, pred.length), bucket(table.purityBuckets, pred.purity), bucket(table.supportBuckets, support)], pModel, pCache });
      }
      cache.push(target[j]);
    }
    if ((i + 1) % 50 === 0) console.error(`${i + 1}/${cases.length} cases, ${obs.length} tokens (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const fitted = fit(obs, table);
  const out = { format: 'glassbox-copy-cache/1', fitted_on: `corpus valid split, ${cases.length} line cases (seed ${SEED}), ${obs.length} tokens with a cache prediction`, measured: new Date().toISOString(), ...fitted.table, tokens: fitted.counts };
  fs.writeFileSync(path.join(dir, 'copy_cache.json'), JSON.stringify(out, null, 1) + '\n');
  console.log(`length \\ purity ${table.purityBuckets.join(' / ')}, each: λ by support ${table.supportBuckets.join(' / ')} (tokens)`);
  table.lengthBuckets.forEach((l, a) => console.log(`${l}+\t`, fitted.table.weights[a].map((ws, b) => ws.map((w, c) => `${w.toFixed(2)}(${fitted.counts[a][b][c]})`).join(' ')).join(' | ')));
  await engine.dispose();
}

/** λ maximizing the mixture's likelihood of the true tokens (EM). */
function em(cell: readonly Observation[]): number {
  let lambda = 0.5;
  for (let it = 0; it < 200; it++) {
    let sum = 0;
    for (const o of cell) {
      const mix = (1 - lambda) * o.pModel + lambda * o.pCache;
      sum += mix > 0 ? (lambda * o.pCache) / mix : 0;
    }
    lambda = sum / cell.length;
  }
  return Math.round(Math.min(0.98, Math.max(0, lambda)) * 1000) / 1000;
}

/** EM per bucket, falling back to the (length, purity) cell and then to the default. */
function fit(obs: Observation[], base: CopyCacheTable): { table: CopyCacheTable; counts: number[][][] } {
  const counts = base.weights.map((row) => row.map((cell) => cell.map(() => 0)));
  const weights = base.weights.map((row, a) =>
    row.map((cell, b) => {
      const plane = obs.filter((o) => o.cell[0] === a && o.cell[1] === b);
      const planeLambda = plane.length >= MIN_TOKENS ? em(plane) : undefined;
      return cell.map((w, c) => {
        const here = plane.filter((o) => o.cell[2] === c);
        counts[a][b][c] = here.length;
        return here.length >= MIN_TOKENS ? em(here) : (planeLambda ?? w);
      });
    }),
  );
  return { table: { ...base, weights }, counts };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
