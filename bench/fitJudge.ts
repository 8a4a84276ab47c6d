/**
 * Fits the line judge's weights (src/engine/completion/lineJudge.ts DEFAULT_JUDGE) on cases of the valid
 * split, never the test split:
 *
 *   npm run eval -- --split valid --cases 300 --stages final --no-tokens --jsonl valid.jsonl
 *   node out/bench/fitJudge.js valid.jsonl
 *
 * Coordinate ascent over a grid per weight, maximizing the mean edit similarity of the chosen
 * candidate over every case (a case with one candidate or none keeps it). Prints the weights and,
 * beside them, what simple rules and an oracle would get on the same cases.
 */
import * as fs from 'node:fs';
import {
  DEFAULT_JUDGE,
  judgeScore,
  type CandidateFeatures,
  type JudgeWeights,
} from '../src/engine/completion/lineJudge';
import type { LineCandidate } from '../src/engine/completion/lineCandidates';
import type { CaseRow } from './evalCases';

type Cand = LineCandidate & CandidateFeatures & { es: number };

const GRID = [-2, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 1, 2];
const KEYS: (keyof JudgeWeights)[] = [
  'meanLogprob',
  'endLogprob',
  'meanLogMixture',
  'match',
  'votes',
  'model',
  'consensus',
];

function load(file: string): { cands: Cand[]; fixed: number }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CaseRow)
    .map((r) => {
      const scored = (r.candidates ?? []).filter((c) => c.score !== undefined);
      return scored.length > 1
        ? { cands: scored as unknown as Cand[], fixed: 0 }
        : { cands: [], fixed: (r.candidates ?? [])[0]?.es ?? r.es };
    });
}

/** Mean edit similarity of the candidates a rule picks. */
function meanEs(cases: { cands: Cand[]; fixed: number }[], pick: (cands: Cand[]) => Cand): number {
  let sum = 0;
  for (const c of cases) sum += c.cands.length ? pick(c.cands).es : c.fixed;
  return sum / cases.length;
}

const byWeights = (w: JudgeWeights) => (cands: Cand[]) =>
  cands.reduce((best, c) => (judgeScore(c, w) > judgeScore(best, w) ? c : best));

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node out/bench/fitJudge.js valid.jsonl');
  const cases = load(file);
  // coordinate ascent from every weight alone at 1 (the optimum is flat; the starts find its ridges)
  let w = DEFAULT_JUDGE;
  let best = -Infinity;
  for (const start of KEYS) {
    let sw = { ...Object.fromEntries(KEYS.map((k) => [k, 0])), [start]: 1 } as unknown as JudgeWeights;
    let sbest = meanEs(cases, byWeights(sw));
    for (let round = 0; round < 6; round++) {
      let moved = false;
      for (const key of KEYS)
        for (const v of GRID) {
          const trial = { ...sw, [key]: v };
          const es = meanEs(cases, byWeights(trial));
          if (es > sbest + 1e-9) [sw, sbest, moved] = [trial, es, true];
        }
      if (!moved) break;
    }
    if (sbest > best) [w, best] = [sw, sbest];
  }
  const judged = cases.filter((c) => c.cands.length).length;
  console.log(`${cases.length} cases, ${judged} with more than one candidate`);
  console.log(`fitted ${JSON.stringify(w)}: mean ES ${best.toFixed(4)}`);
  console.log(
    `model's own line where it has one: ${meanEs(cases, (c) => c.find((k) => k.origin === 'model') ?? c[0]).toFixed(4)}`,
  );
  console.log(`longest match's line: ${meanEs(cases, (c) => c.find((k) => k.origin === 'copy') ?? c[0]).toFixed(4)}`);
  console.log(
    `mean log-likelihood alone: ${meanEs(cases, byWeights({ ...w, ...Object.fromEntries(KEYS.map((k) => [k, 0])), meanLogprob: 1 })).toFixed(4)}`,
  );
  console.log(`oracle: ${meanEs(cases, (c) => c.reduce((a, b) => (b.es > a.es ? b : a))).toFixed(4)}`);
}

main();
