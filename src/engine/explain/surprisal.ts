/**
 * "What the model did not expect": each token of a piece of code, with its surprisal under the
 * loaded model, −log2 p(token | everything before it). Code that surprises a language model is
 * more often buggy (Ray et al., "On the naturalness of buggy code", ICSE 2016), so the most
 * surprising words are worth a second look, whatever the model says in prose.
 */
import { CopyCache, DEFAULT_COPY_TABLE, type CopyCacheTable } from '../generation/copyCache';
import type { DecoderModel } from '../runtime/decoder';
import { logSumExp } from '../generation/sampling';

export interface TokenSurprisal {
  /** The token's text (its characters in the code, in order: joined they give the code back). */
  text: string;
  /** −log2 p, bits, under the model mixed with the copy cache. */
  bits: number;
  /** Rank of the token among the model's own predictions at that point (1: its first choice). */
  rank: number;
}

/** A word (a name, a number, an operator run) and the surprisal of its tokens together. */
export interface WordSurprisal {
  /** Token index range [start, end). */
  start: number;
  end: number;
  text: string;
  bits: number;
}

export interface SurprisalResult {
  tokens: TokenSurprisal[];
  words: WordSurprisal[];
  /** Indexes into `words` of the most surprising ones, most surprising first. */
  top: number[];
  /** Mean surprisal over the code, bits per token. */
  meanBits: number;
}

/** Most tokens scored at once (longer code is scored in windows that keep half of one as context). */
const WINDOW = 1024;
/** Words listed as the most surprising. */
export const TOP_SURPRISING = 5;

/**
 * Surprisal of every token of `code` (special-token text in it is scored as plain text), under the
 * model mixed with the copy cache, as completions are decoded: a name the code used a few lines
 * earlier is expected, so a misspelled one stands out. `context` is the text before the code.
 */
export async function surprisal(
  model: DecoderModel,
  code: string,
  context = '',
  copyTable: CopyCacheTable = DEFAULT_COPY_TABLE,
): Promise<SurprisalResult> {
  const tok = model.tokenizer;
  const before = context ? tok.encode(context) : [];
  const ids = tok.encode(code);
  const eos = model.eosTokenIds[0];
  // the end-of-text token as a start, so the code's first token is predicted too
  const seq = [...(eos !== undefined ? [eos] : []), ...before.slice(-WINDOW / 2), ...ids];
  const first = seq.length - ids.length;
  const bits = new Float64Array(ids.length);
  const ranks = new Int32Array(ids.length).fill(1);
  const cache = new CopyCache(seq.slice(0, 1), tok.specialIds, copyTable);
  const span = Math.min(WINDOW, model.contextLength - 1);
  // seq index of the next token to score: every one needs at least one token before it
  for (let next = 1; next < seq.length;) {
    const start = Math.max(0, next - Math.floor(span / 2)); // at least half a window of context
    const win = seq.slice(start, start + span);
    const rows = next >= first || start + span > first ? await model.logits(win) : null;
    for (let t = next - start; t < win.length; t++, next++) {
      const target = win[t];
      if (rows && next >= first) {
        const row = rows[t - 1];
        let rank = 1;
        for (let v = 0; v < row.length; v++) if (row[v] > row[target]) rank++;
        const pModel = Math.exp(row[target] - logSumExp(row));
        const pred = cache.predict();
        const lambda = pred?.weight ?? 0;
        const pCache = pred?.candidates.find((c) => c.id === target)?.p ?? 0;
        bits[next - first] = -Math.log2(Math.max(1e-12, (1 - lambda) * pModel + lambda * pCache));
        ranks[next - first] = rank;
      }
      cache.push(target);
    }
  }
  const tokens = ids.map((id, i) => ({ text: tok.tokenText(id), bits: bits[i], rank: ranks[i] }));
  const words = wordsOf(tokens);
  const top = mostSurprising(words);
  const meanBits = tokens.length ? tokens.reduce((n, t) => n + t.bits, 0) / tokens.length : 0;
  return { tokens, words, top, meanBits };
}

/**
 * Indexes of the words most worth a second look, most surprising first. A name's first occurrence
 * that the code goes on to use (`def total(values)`, `result = 0`) introduces it: a new name is
 * unpredictable by nature, not a slip, so introductions rank after every other word. A misspelled
 * use (`return reslut`) occurs once and keeps its rank.
 */
export function mostSurprising(words: WordSurprisal[], count = TOP_SURPRISING): number[] {
  const lastIndex = new Map<string, number>();
  words.forEach((w, i) => lastIndex.set(w.text.trim(), i));
  const introduces = (i: number) => {
    const name = words[i].text.trim();
    return IDENTIFIER.test(name) && lastIndex.get(name)! > i && words.findIndex((w) => w.text.trim() === name) === i;
  };
  return [...words.keys()]
    .filter((i) => words[i].text.trim() !== '')
    .map((i) => ({ i, late: introduces(i) ? 1 : 0 }))
    .sort((a, b) => a.late - b.late || words[b.i].bits - words[a.i].bits)
    .slice(0, count)
    .map((x) => x.i);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const WORD_CHAR = /[A-Za-z0-9_$]/;

/** Tokens grouped into words: a token that starts with a word character right after one continues the word. */
function wordsOf(tokens: TokenSurprisal[]): WordSurprisal[] {
  const out: WordSurprisal[] = [];
  tokens.forEach((t, i) => {
    const last = out[out.length - 1];
    const prev = tokens[i - 1]?.text;
    if (last && prev && WORD_CHAR.test(prev[prev.length - 1]) && WORD_CHAR.test(t.text[0] ?? '')) {
      last.end = i + 1;
      last.text += t.text;
      last.bits += t.bits;
    } else out.push({ start: i, end: i + 1, text: t.text, bits: t.bits });
  });
  return out;
}
