/**
 * The line a one-line suggestion shows: the pipeline's own line and the lines copying gives
 * (lineCandidates.ts), each shaped as the editor shapes a suggestion, judged by the model
 * (lineJudge.ts).
 */
import type { ContextSnippet } from '../context/snippetIndex';
import type { GenerationResult } from '../generation/generate';
import { TextStopper, type TextRule } from '../generation/stopping';
import { copyCandidates, type LineCandidate } from './lineCandidates';
import { judgeLines, type JudgeInput, type JudgeWeights, type WeighedCandidate } from './lineJudge';

/** Copy candidates judged beside the pipeline's own line (lineCandidates.ts). */
const COPY_CANDIDATES = 4;

/**
 * The pipeline's own line and the lines copying gives, judged by the model (lineJudge.ts): the
 * result of the best one, and the candidates. When every candidate is the pipeline's own line
 * there is nothing to judge and no run is made.
 */
export async function judgeLine(o: {
  produced: GenerationResult;
  prefix: string;
  suffix: string;
  sources: ContextSnippet[];
  shape: (text: string) => string;
  weights?: JudgeWeights;
  all?: boolean;
  input: JudgeInput;
}): Promise<{ result: GenerationResult; candidates: WeighedCandidate[] | LineCandidate[] }> {
  const own = o.produced.text.split('\n')[0].trimEnd();
  const list: LineCandidate[] = own.trim() ? [{ text: own, origin: 'model', match: 0, votes: 1 }] : [];
  for (const c of copyCandidates(o.prefix, o.suffix, o.sources, COPY_CANDIDATES)) {
    const text = o.shape(c.text);
    const same = list.find((l) => l.text === text);
    if (same) [same.match, same.votes] = [Math.max(same.match, c.match), same.votes + c.votes];
    else if (text.trim()) list.push({ ...c, text });
  }
  if (list.length === 0 || (list.length === 1 && list[0].origin === 'model'))
    return { result: o.produced, candidates: list };
  const { judged, best } = await judgeLines(o.input, list, o.weights, o.all);
  return { result: judged[0].origin === 'model' ? o.produced : best, candidates: judged };
}

/** A candidate line as the editor's shaping leaves it (stop strings, the bracket and line rules). */
export function shapeLine(text: string, stopStrings: readonly string[], rules: readonly TextRule[]): string {
  const stops = new TextStopper(stopStrings, rules);
  stops.push(text);
  return stops.visible.split('\n')[0].trimEnd();
}
