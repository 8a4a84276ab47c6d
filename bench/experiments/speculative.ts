/**
 * Would speculative verification of the copy cache's drafts pay? (Measured, not landed: see
 * bench/README.md.) Two figures from one run on the shipped model:
 *
 *   cost     ms of one forward of k tokens on a ~1,000-token cache with logits for every position
 *            (what verifying a k-token draft needs), against k single-token decode steps
 *   benefit  on real completions (the eval's line cases on the test split, the product pipeline),
 *            how many tokens of the cache's draft at each step (following the copied source
 *            token by token) the greedy mixture then really chose
 *
 * The speed-up a draft of k tokens can give is (accepted + 1) · t(1) / t(k): above 1 it pays.
 *
 *   npm run compile && node out/bench/experiments/speculative.js [--cases 100]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { answerQueries, cursorQueries, stringSource } from '../../src/engine/context/cursorContext';
import { SnippetIndex } from '../../src/engine/context/snippetIndex';
import { embeddedModelDir } from '../../src/engine/runtime/embedded';
import { Engine } from '../../src/engine/engine';
import { sampleLineCases, type TestFile } from '../lineCases';
import { summarize, time } from '../stats';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cases: { type: 'string', default: '100' } } });
  const dir = embeddedModelDir(path.join(__dirname, '..'));
  const engine = await Engine.load(dir);
  const model = engine.model;
  const data = path.join(__dirname, '..', '..', '..', 'models', 'recipe', 'data', 'corpus', 'test.jsonl');
  const files = fs
    .readFileSync(data, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TestFile);

  // cost: k-token forwards with every position's logits vs single steps, same 1,000-token cache
  const ids = model.tokenizer
    .encode(
      files
        .map((f) => f.text)
        .join('\n')
        .slice(0, 20000),
    )
    .slice(0, 1040);
  const cost: Record<number, number> = {};
  for (const k of [1, 2, 4, 8]) {
    const times: number[] = [];
    for (let r = 0; r < 12; r++) {
      const cache = model.newCache();
      await model.forward(ids.slice(0, 1000), cache);
      times.push((await time(() => model.forward(ids.slice(1000, 1000 + k), cache, k > 1)))[1]);
    }
    cost[k] = summarize(times).median;
  }

  // benefit: per generated token, the length of the cache's own continuation that the output then followed
  const cases = sampleLineCases(files, Number(values.cases), 20240601, 'mid');
  const accepted: number[] = [];
  let lastPkg = '';
  let index = new SnippetIndex();
  for (const c of cases) {
    const f = files[c.file];
    if (f.package !== lastPkg) {
      index = new SnippetIndex();
      for (const g of files) if (g.package === f.package) index.setFile(g.path, g.text);
      lastPkg = f.package;
    }
    const { window: w, queries } = cursorQueries(
      stringSource(c.prefix + c.suffix),
      c.line,
      c.prefix.length,
      f.path,
      1024,
    );
    const r = await engine.complete({
      prefix: w.prefix,
      suffix: w.suffix,
      path: f.path,
      startLine: w.startLine,
      ...answerQueries(index, queries),
      maxNewTokens: 48,
      shaping: false,
      stopStrings: ['\n'],
    });
    // a copied token's source says where the draft would have continued: count how far the output kept copying in step
    const steps = r.steps;
    for (let i = 0; i < steps.length; i++) {
      let run = 0;
      for (let j = i + 1; j < steps.length; j++) {
        const a = steps[j - 1].source?.from;
        const b = steps[j].source?.from;
        if (a === undefined || b === undefined || b !== a + 1) break;
        run++;
      }
      accepted.push(Math.min(run, 7));
    }
  }
  const mean = accepted.reduce((a, b) => a + b, 0) / Math.max(1, accepted.length);
  console.log(`CPU: ${require('node:os').cpus()[0]?.model}`);
  console.log(
    `forward ms on a 1,000-token cache: ${Object.entries(cost)
      .map(([k, ms]) => `${k} token${k === '1' ? '' : 's'} ${ms.toFixed(2)}`)
      .join(', ')}`,
  );
  console.log(`draft tokens the output then followed, per step: mean ${mean.toFixed(2)} over ${accepted.length} steps`);
  for (const k of [2, 4, 8]) {
    const gain = accepted.reduce((a, acc) => a + (Math.min(acc, k - 1) + 1), 0) / accepted.length;
    console.log(
      `k = ${k}: tokens per verification ${gain.toFixed(2)}, speed-up ${((gain * cost[1]) / cost[k]).toFixed(2)}×`,
    );
  }
  await engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
