/**
 * Fits the copy cache's mixing weights (src/engine/generation/copyCache.ts) for a model, on the corpus'
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
import { matchIdsOf } from '../src/engine/completion/completion';
import { bucket, CopyCache, DEFAULT_COPY_TABLE, type CopyCacheTable } from '../src/engine/generation/copyCache';
import { embeddedModelDir } from '../src/engine/runtime/embedded';
import { Engine } from '../src/engine/engine';
import { buildFimPrompt } from '../src/engine/completion/fimPrompt';
import { logSumExp } from '../src/engine/generation/sampling';
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
  const { values } = parseArgs({
    options: { model: { type: 'string' }, cases: { type: 'string', default: '300' }, data: { type: 'string' } },
  });
  const dir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  const data = path.resolve(values.data ?? path.join(__dirname, '..', '..', 'models', 'recipe', 'data'));
  const files = fs
    .readFileSync(path.join(data, 'corpus', 'valid.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TestFile);
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
    const { window: w, queries } = cursorQueries(
      stringSource(c.prefix + c.suffix),
      c.line,
      c.prefix.length,
      f.path,
      BUDGET,
    );
    const found = answerQueries(index, queries);
    const prompt = buildFimPrompt(tok, engine.fim, {
      prefix: w.prefix,
      suffix: w.suffix,
      budgetTokens: BUDGET,
      path: f.path,
      snippets: found.snippets,
      heal: true,
    });
    const target = tok.encode(prompt.healText + c.target).slice(0, 64);
    if (target.length === 0) continue;
    const sources: number[] = [];
    for (const s of found.copySources) sources.push(model.eosTokenIds[0] ?? 0, ...tok.encode(s.text));
    const seq = [...prompt.ids, ...target];
    if (seq.length >= model.contextLength) continue;
    const rows = await model.logits(seq.slice(0, -1));
    const cache = new CopyCache([...sources, ...prompt.ids], tok.specialIds, table, matchIdsOf(tok));
    for (let j = 0; j < target.length; j++) {
      const row = rows[prompt.ids.length - 1 + j];
      const pModel = Math.exp(row[target[j]] - logSumExp(row));
      const pred = cache.predict();
      if (pred) {
        const pCache = pred.candidates.find((x) => x.id === target[j])?.p ?? 0;
        obs.push({
          cell: [bucket(table.lengthBuckets, pred.length), bucket(table.purityBuckets, pred.purity), pred.echo ? 1 : 0],
          pModel,
          pCache,
        });
      }
      cache.push(target[j], true);
    }
    if ((i + 1) % 50 === 0)
      console.error(
        `${i + 1}/${cases.length} cases, ${obs.length} tokens (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
  }
  const fitted = fit(obs, table);
  const out = {
    format: 'glassbox-copy-cache/1',
    fitted_on: `corpus valid split, ${cases.length} line cases (seed ${SEED}), ${obs.length} tokens with a cache prediction`,
    measured: new Date().toISOString(),
    ...fitted.table,
    echo_factor: fitted.echoFactor,
    tokens: fitted.counts,
  };
  fs.writeFileSync(path.join(dir, 'copy_cache.json'), JSON.stringify(out, null, 1) + '\n');
  console.log(`echoes of the output: λ × ${fitted.echoFactor} where their bucket is small`);
  console.log(
    `length \\ purity ${table.purityBuckets.join(' / ')}, each: λ for a match reaching into the prompt / an echo of the output (tokens)`,
  );
  table.lengthBuckets.forEach((l, a) =>
    console.log(
      `${l}+\t`,
      fitted.table.weights[a]
        .map((ws, b) => ws.map((w, c) => `${w.toFixed(2)}(${fitted.counts[a][b][c]})`).join(' '))
        .join(' | '),
    ),
  );
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

/**
 * EM per bucket for matches that reach into the prompt, falling back to the default where a bucket
 * is small. Echoes of the output are fewer: where their bucket is small, its λ is the other
 * bucket's times one factor, the factor that makes the mixture likeliest over all echoes.
 */
function fit(
  obs: Observation[],
  base: CopyCacheTable,
): { table: CopyCacheTable; counts: number[][][]; echoFactor: number } {
  const counts = base.weights.map((row) => row.map((cell) => cell.map(() => 0)));
  for (const o of obs) counts[o.cell[0]][o.cell[1]][o.cell[2]]++;
  const cellOf = (a: number, b: number, c: number) =>
    obs.filter((o) => o.cell[0] === a && o.cell[1] === b && o.cell[2] === c);
  const known = base.weights.map((row, a) =>
    row.map((cell, b) => (counts[a][b][0] >= MIN_TOKENS ? em(cellOf(a, b, 0)) : cell[0])),
  );
  const echoes = obs.filter((o) => o.cell[2] === 1);
  let echoFactor = 1;
  let best = -Infinity;
  for (let f = 0; f <= 1.0001; f += 0.02) {
    let ll = 0;
    for (const o of echoes) {
      const l = f * known[o.cell[0]][o.cell[1]];
      ll += Math.log(Math.max(1e-12, (1 - l) * o.pModel + l * o.pCache));
    }
    if (ll > best) [best, echoFactor] = [ll, Math.round(f * 100) / 100];
  }
  const weights = known.map((row, a) =>
    row.map((k, b) => [
      k,
      counts[a][b][1] >= MIN_TOKENS ? em(cellOf(a, b, 1)) : Math.round(k * echoFactor * 1000) / 1000,
    ]),
  );
  return { table: { ...base, weights }, counts, echoFactor };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
