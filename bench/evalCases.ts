/**
 * Per-case evidence of `npm run eval`: every case's document tail, target, the shipped pipeline's
 * line, the copy baseline's line and the judge's candidates with their scores (a JSONL file), and
 * the cases lost by the widest margin to the copy baseline, each with the reason read off its
 * candidates (eval.md).
 */
import type { LineCandidate } from '../src/engine/completion/lineCandidates';
import type { JudgedCandidate } from '../src/engine/completion/lineJudge';
import { editSimilarity, type LineCase, type TestFile } from './lineCases';
import type { CaseOutput } from './lineEval';

export interface CaseRow {
  case: number;
  kind: LineCase['kind'];
  path: string;
  line: number;
  /** The last 300 characters of the document before the cursor. */
  before: string;
  target: string;
  pipeline: string;
  copy: string;
  es: number;
  copyEs: number;
  confidence?: number;
  candidates?: {
    text: string;
    origin: string;
    match: number;
    votes: number;
    score?: number;
    meanLogprob?: number;
    endLogprob?: number;
    minMixture?: number;
    meanLogMixture?: number;
    consensus?: number;
    es: number;
  }[];
}

export function caseRows(
  cases: readonly LineCase[],
  files: readonly TestFile[],
  pipeline: readonly CaseOutput[],
  copy: readonly CaseOutput[],
): CaseRow[] {
  return cases.map((c, i) => {
    const r = (x: number) => Math.round(x * 1000) / 1000;
    const p = pipeline[i];
    return {
      case: i,
      kind: c.kind,
      path: `${files[c.file].package}/${files[c.file].path}`,
      line: c.line + 1,
      before: c.prefix.slice(-300),
      target: c.target,
      pipeline: p.text,
      copy: copy[i].text,
      es: r(editSimilarity(p.text, c.target)),
      copyEs: r(editSimilarity(copy[i].text, c.target)),
      confidence: p.confidence && r(p.confidence.min),
      candidates: p.candidates?.map((k) => {
        const j = k as Partial<JudgedCandidate> & LineCandidate;
        return {
          text: j.text,
          origin: j.origin,
          match: j.match,
          votes: j.votes,
          ...(j.score !== undefined
            ? {
                score: r(j.score),
                meanLogprob: r(j.meanLogprob!),
                endLogprob: r(j.endLogprob!),
                minMixture: r(j.minMixture!),
                meanLogMixture: r(j.meanLogMixture!),
                consensus: r(j.consensus!),
              }
            : {}),
          es: r(editSimilarity(j.text, c.target)),
        };
      }),
    };
  });
}

/** Why the pipeline lost this case to the copy baseline, read off its candidates. */
export function lossReason(row: CaseRow): string {
  const cands = row.candidates ?? [];
  const copyCand = cands.find((k) => k.text === row.copy);
  const best = [...cands].sort((a, b) => b.es - a.es)[0];
  if (!row.pipeline) return cands.length ? 'nothing shown: the guards cut the chosen line' : 'no candidate at all';
  if (row.copy.startsWith(row.pipeline)) {
    if (copyCand) return `stopped early: the copy's whole line was a candidate (score ${copyCand.score}) but lost`;
    return 'stopped early: the copy baseline found a longer line the workspace query did not return';
  }
  if (copyCand)
    return `the judge preferred a ${cands[0]?.origin === 'model' ? "model's" : 'different copied'} line (score ${cands[0]?.score}) over the copy's (${copyCand.score})`;
  if (best && best.es >= row.copyEs) return `a better candidate (ES ${best.es}) was scored lower`;
  return "the copy baseline's line was not among the candidates (its match lies outside the window and the copy sources)";
}

/** The `n` cases lost to the copy baseline by the widest margin, as a Markdown table. */
export function lostCasesMarkdown(rows: readonly CaseRow[], n: number): string {
  const lost = rows
    .filter((r) => r.copyEs > r.es)
    .sort((a, b) => b.copyEs - b.es - (a.copyEs - a.es))
    .slice(0, n);
  const cell = (s: string) =>
    '`' + (s.length > 60 ? s.slice(0, 57) + '…' : s).replace(/[|`]/g, (ch) => `\\${ch}`) + '`';
  const lines = [
    '| case | before the cursor | target | shown | copy baseline | why |',
    '|---|---|---|---|---|---|',
    ...lost.map(
      (r) =>
        `| ${r.case} (${r.kind}) | ${cell(r.before.slice(r.before.lastIndexOf('\n') + 1).slice(-40) || '⏎')} | ${cell(r.target)} | ${cell(r.pipeline)} | ${cell(r.copy)} | ${lossReason(r)} |`,
    ),
  ];
  return lines.join('\n');
}
