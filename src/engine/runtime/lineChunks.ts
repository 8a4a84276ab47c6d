/**
 * Encoding long text line by line, with the lines' ids cached: a completion request re-sends the
 * whole ~6,000-character prefix on every keystroke, and all of it but the last line is unchanged.
 *
 * This is exact only where the tokenizer cannot produce a token across the cut. For byte-level BPE
 * with a regex pre-tokenizer (GPT-2, Llama 3, Qwen, StarCoder, Glassbox) and no normalizer that
 * works across characters, a pre-token never spans a line break that is followed by a
 * non-whitespace character (and, for GPT-2's regex, follows one), and BPE never merges across
 * pre-tokens. Pre-tokenizers with a
 * `\s*[\r\n]+` alternative (Llama 3, Qwen, Glassbox) end a pre-token at every run of line breaks,
 * so a line break followed by indentation is a cut too. Other tokenizers (SentencePiece's
 * Metaspace adds a space at the start of the text, WordPiece, Unigram) are encoded whole.
 */

/**
 * Where text may be cut: after a line break that anything but another line break follows; or
 * after a lone line break (non-whitespace on both sides).
 */
export type LineCutRule = 'before-any-line' | 'before-text';

interface TokenizerJson {
  model?: { type?: unknown };
  normalizer?: { type?: unknown } | null;
  pre_tokenizer?: PreTokenizerJson | null;
  added_tokens?: { content?: string; lstrip?: boolean; rstrip?: boolean }[];
}

interface PreTokenizerJson {
  type?: unknown;
  use_regex?: unknown;
  pattern?: { Regex?: unknown; String?: unknown };
  pretokenizers?: PreTokenizerJson[];
}

/** The cut rule that keeps `tokenizer.json`'s tokenization exact, or undefined to encode whole. */
export function lineCutRule(json: TokenizerJson): LineCutRule | undefined {
  if (json.model?.type !== 'BPE') return undefined;
  const norm = json.normalizer?.type;
  if (norm !== undefined && norm !== 'NFC') return undefined; // NFC never composes across a line break
  // Added tokens match before pre-tokenizing: one that absorbs neighbouring spaces, or spans a line
  // break (some vocabularies add whitespace runs), could straddle a cut.
  if (json.added_tokens?.some((t) => t.lstrip || t.rstrip || t.content?.includes('\n'))) return undefined;
  const pre = json.pre_tokenizer;
  if (!pre) return undefined;
  const parts = pre.type === 'Sequence' ? (pre.pretokenizers ?? []) : [pre];
  const byteLevel = parts.filter((p) => p.type === 'ByteLevel');
  const splits = parts.filter((p) => p.type === 'Split');
  if (byteLevel.length !== 1 || parts.length !== byteLevel.length + splits.length) return undefined;
  if (splits.length === 0) return byteLevel[0].use_regex === false ? undefined : 'before-text'; // GPT-2's regex
  if (splits.length !== 1 || byteLevel[0].use_regex === true) return undefined;
  const regex = splits[0].pattern?.Regex;
  if (typeof regex !== 'string') return undefined;
  // The alternative that matches a whitespace run ending at its last line break (`\s*[\r\n]+`, or
  // Glassbox's ASCII spelling of it), and the generic whitespace alternatives (`\s+(?!\S)`).
  const newlineRun = regex.search(/(\\s|\[\\t\\n\\x0b\\x0c\\r \])\*\[\\r\\n\]\+/);
  const spaceRun = regex.search(/\\s\+\(\?!\\S\)|\[\\t\\n\\x0b\\x0c\\r \]\+\(\?!/);
  if (newlineRun >= 0 && (spaceRun < 0 || newlineRun < spaceRun)) return 'before-any-line';
  return spaceRun >= 0 ? 'before-text' : undefined;
}

/** Cuts `text` into pieces at the rule's cut points; the pieces joined are `text`. */
export function cutAtLines(text: string, rule: LineCutRule): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) {
    const next = text[i + 1];
    // GPT-2's `\s+(?!\S)` splits a whitespace run before its last character mid-text but not at
    // the end of a piece: so 'before-text' cuts only after a line break that ends no longer run.
    const cut =
      rule === 'before-any-line'
        ? next !== '\n' && next !== '\r'
        : !/\s/.test(next) && (i === 0 || !/\s/.test(text[i - 1]));
    if (cut) {
      pieces.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

/**
 * Ids of recently encoded pieces, in two generations: a piece is looked up in the recent map, then
 * in the older one (and moved to the recent); when the recent map is half full it becomes the
 * older and the older is dropped. So the pieces of the text being edited, read on every keystroke,
 * cost one lookup each (an exact LRU's delete and re-insert per hit was most of a warm request's
 * 0.13 ms of encoding on a 2-core EPYC), and at most `maxPieces` are kept. 2,048 lines hold the
 * prefixes and suffixes of several open files (a 6,000-character prefix is 150–250 lines) in about
 * 4 MB of heap; 8,192 took about 10 MB, which showed in the bench's endurance run (RSS growth over
 * 1,000 requests).
 */
export class PieceCache {
  private recent = new Map<string, number[]>();
  private older = new Map<string, number[]>();

  constructor(private readonly maxPieces = 2048) {}

  /** The ids of one piece, encoded once while it stays cached (the cached array: callers must not change it). */
  idsOf(piece: string, encodePiece: (piece: string) => number[]): readonly number[] {
    let ids = this.recent.get(piece);
    if (!ids) {
      ids = this.older.get(piece) ?? encodePiece(piece);
      this.recent.set(piece, ids);
      if (this.recent.size >= Math.max(1, this.maxPieces >> 1)) [this.older, this.recent] = [this.recent, new Map()];
    }
    return ids;
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}

/** One text encoded recently: where its pieces end, and how many ids the text up to each end has. */
interface EncodedText {
  text: string;
  /** End offset (characters) of each piece, ascending; the last is text.length. */
  ends: number[];
  /** ids.length up to each piece's end. */
  idEnds: number[];
  ids: number[];
}

/** Length of the longest common prefix of two strings, in UTF-16 units. */
export function commonPrefixChars(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Encoding that starts from the last few texts it encoded: a keystroke changes a 6,000-character
 * prefix near its end, so the pieces before the change keep their ids and only the text from the
 * last cut before it is cut and looked up again (through the piece cache). Cutting all 150–250
 * lines and hashing each for its lookup was most of a warm request's encoding.
 *
 * A cut after a line break depends on the characters up to the one after the break (cutAtLines),
 * so a piece is reused when the new text agrees with the old one through the character after the
 * piece's end.
 */
export class IncrementalEncoder {
  /** Most recent last; a prefix, a suffix and a few snippets or documents. */
  private recent: EncodedText[] = [];

  constructor(
    private readonly rule: LineCutRule,
    private readonly pieces: PieceCache,
    private readonly maxTexts = 4,
  ) {}

  encode(text: string, encodePiece: (piece: string) => number[]): number[] {
    let best: EncodedText | undefined;
    let shared = 0;
    for (const r of this.recent) {
      const n = r.text.charCodeAt(0) === text.charCodeAt(0) ? commonPrefixChars(r.text, text) : 0;
      if (n > shared) [best, shared] = [r, n];
    }
    // the pieces of `best` that end (with the character after their end) inside the shared prefix
    let kept = 0;
    if (best) while (kept < best.ends.length - 1 && best.ends[kept] + 1 <= shared) kept++;
    const from = kept > 0 ? best!.ends[kept - 1] : 0;
    const ids = kept > 0 ? best!.ids.slice(0, best!.idEnds[kept - 1]) : [];
    const ends = kept > 0 ? best!.ends.slice(0, kept) : [];
    const idEnds = kept > 0 ? best!.idEnds.slice(0, kept) : [];
    for (const piece of cutAtLines(from === 0 ? text : text.slice(from), this.rule)) {
      for (const id of this.pieces.idsOf(piece, encodePiece)) ids.push(id);
      ends.push((ends.at(-1) ?? 0) + piece.length);
      idEnds.push(ids.length);
    }
    const entry: EncodedText = { text, ends, idEnds, ids };
    this.recent = [...this.recent.filter((r) => r !== best), entry].slice(-this.maxTexts);
    return ids.slice();
  }
}
