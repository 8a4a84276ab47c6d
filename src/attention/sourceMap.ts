/**
 * Where each captured token sits in a document, so the editor can be tinted by attention. Pure
 * (no vscode), offsets in UTF-16 code units like TextDocument.offsetAt.
 *
 * A prompt is runs of text between special tokens (a FIM prompt: prefix, suffix, middle). Each run
 * is looked up in the document, taking the occurrence nearest the anchor (the cursor or the
 * selection): a completion's prefix ends at the cursor and its suffix starts there. Runs shorter
 * than MIN_RUN characters are too ambiguous to place and stay unmapped.
 */

export interface TokenRange {
  token: number;
  start: number;
  end: number;
}

const MIN_RUN = 4;
const MAX_OCCURRENCES = 2000;

/** Token spans when the tokens are known to start at `start` in the document (a selection). */
export function mapFromStart(pieces: readonly string[], doc: string, start: number): TokenRange[] | null {
  if (!doc.startsWith(pieces.join(''), start)) return null;
  const out: TokenRange[] = [];
  let at = start;
  pieces.forEach((p, token) => {
    if (p.length > 0) out.push({ token, start: at, end: at + p.length });
    at += p.length;
  });
  return out;
}

/**
 * Token spans found by searching each run between special tokens near `anchor`. Only tokens before
 * `promptEnd` are placed: generated tokens are not in the document, and in SPM order
 * (`<pre><suf> suffix <mid> prefix`) they follow the prefix with no special token between.
 */
export function mapBySearch(
  pieces: readonly string[],
  special: readonly boolean[],
  doc: string,
  anchor: number,
  promptEnd: number = pieces.length,
): TokenRange[] {
  const out: TokenRange[] = [];
  let runStart = 0;
  const flush = (end: number) => {
    const text = pieces.slice(runStart, end).join('');
    if (text.trim().length >= MIN_RUN) {
      const at = nearestOccurrence(doc, text, anchor);
      if (at >= 0) {
        let pos = at;
        for (let t = runStart; t < end; t++) {
          if (pieces[t].length > 0) out.push({ token: t, start: pos, end: pos + pieces[t].length });
          pos += pieces[t].length;
        }
      }
    }
  };
  const end = Math.min(promptEnd, pieces.length);
  for (let t = 0; t <= end; t++) {
    if (t === end || special[t]) {
      flush(t);
      runStart = t + 1;
    }
  }
  return out;
}

/** Start of the occurrence of `text` in `doc` closest to `anchor` (0 when the anchor touches it), or -1. */
function nearestOccurrence(doc: string, text: string, anchor: number): number {
  let best = -1;
  let bestDistance = Infinity;
  let from = 0;
  for (let n = 0; n < MAX_OCCURRENCES; n++) {
    const at = doc.indexOf(text, from);
    if (at < 0) break;
    const end = at + text.length;
    const distance = anchor < at ? at - anchor : anchor > end ? anchor - end : 0;
    if (distance < bestDistance) {
      best = at;
      bestDistance = distance;
    }
    from = at + 1;
  }
  return best;
}

interface TintLevel {
  level: number;
  ranges: TokenRange[];
  weights: number[];
}

/**
 * Groups mapped tokens into `levels` intensity bands by weight relative to the heaviest mapped
 * key (the query itself excluded); tokens under 1/16 of it are left plain.
 */
export function tintLevels(
  ranges: readonly TokenRange[],
  weights: ArrayLike<number>,
  query: number,
  levels: number,
): TintLevel[] {
  let max = 0;
  for (const r of ranges) if (r.token !== query && r.token < weights.length) max = Math.max(max, weights[r.token]);
  const out: TintLevel[] = Array.from({ length: levels }, (_, level) => ({ level, ranges: [], weights: [] }));
  if (max <= 0) return out;
  for (const r of ranges) {
    if (r.token === query || r.token >= weights.length) continue;
    const x = weights[r.token] / max;
    if (x < 1 / 16) continue;
    const level = Math.min(levels - 1, Math.floor(x * levels));
    out[level].ranges.push(r);
    out[level].weights.push(weights[r.token]);
  }
  return out;
}
