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

  /** ids of `text` = the ids of its pieces joined, each piece encoded once while it stays cached. */
  encode(pieces: readonly string[], encodePiece: (piece: string) => number[]): number[] {
    const out: number[] = [];
    for (const piece of pieces) {
      let ids = this.recent.get(piece);
      if (!ids) {
        ids = this.older.get(piece) ?? encodePiece(piece);
        this.recent.set(piece, ids);
        if (this.recent.size >= Math.max(1, this.maxPieces >> 1)) [this.older, this.recent] = [this.recent, new Map()];
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}
