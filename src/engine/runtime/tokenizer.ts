/**
 * The model's tokenizer, read from tokenizer.json with @huggingface/tokenizers; special tokens,
 * EOS and the chat template come from tokenizer_config.json.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { GlassboxError } from '../errors';
import { IncrementalEncoder, lineCutRule, PieceCache, type LineCutRule } from './lineChunks';
import { readJson, type ModelFiles } from './modelFolder';
import { readRegularFileSync } from './regularFile';

const SUPPORTED_MODELS = ['BPE', 'Unigram', 'WordPiece'];
/** Largest tokenizer.json read, bytes (a 150,000-token vocabulary's is about 11 MB). */
const MAX_TOKENIZER_BYTES = 256 * 2 ** 20;

/** Shorter text is encoded whole: the line cache pays off on editor-sized prefixes and suffixes. */
const MIN_CUT_CHARS = 256;

export class TextTokenizer {
  /** Every added token (special or not) by its text. */
  readonly addedTokens: ReadonlyMap<string, number>;
  readonly specialIds: ReadonlySet<number>;
  /** The special tokens' texts (two characters or more), for encodeText. */
  private readonly specialTexts: readonly string[];
  readonly chatTemplate?: string;
  readonly eosToken?: string;
  readonly bosToken?: string;
  readonly addBosToken: boolean;
  private readonly textCache = new Map<number, string>();
  /** Byte-level tokens' bytes (null: not a byte-level token). */
  private readonly bytesCache = new Map<number, Uint8Array | null>();
  /**
   * The last few long texts' ids and recently encoded lines' ids (see lineChunks.ts), for the next
   * request's same text with a change near its end; only when `lineCut` keeps encoding exact.
   */
  private readonly incremental?: IncrementalEncoder;

  private constructor(
    private readonly tok: Tokenizer,
    config: Record<string, unknown>,
    /** Where long text may be cut into separately encoded lines; undefined: encode it whole. */
    readonly lineCut: LineCutRule | undefined,
    /**
     * Whether the text of ids is the texts of its ids joined, wherever each decodes to whole
     * UTF-8 characters on its own: true of a byte-level decoder alone (bytes joined, then read as
     * UTF-8), not of SentencePiece's (a space dropped at the start) or WordPiece's (## joins).
     */
    readonly concatenates = false,
  ) {
    const added = new Map<string, number>();
    const special = new Set<number>();
    for (const [id, t] of tok.get_added_tokens_decoder()) {
      added.set(t.content, id);
      if (t.special) special.add(id);
    }
    this.addedTokens = added;
    this.specialIds = special;
    this.specialTexts = [...added].filter(([t, id]) => special.has(id) && t.length > 1).map(([t]) => t);
    this.chatTemplate = typeof config.chat_template === 'string' ? config.chat_template : undefined;
    this.eosToken = tokenText(config.eos_token);
    this.bosToken = tokenText(config.bos_token);
    this.addBosToken = config.add_bos_token === true;
    if (lineCut) this.incremental = new IncrementalEncoder(lineCut, new PieceCache());
  }

  static load(files: Pick<ModelFiles, 'tokenizerPath' | 'tokenizerConfigPath'>): TextTokenizer {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readRegularFileSync(files.tokenizerPath, MAX_TOKENIZER_BYTES)) as Record<string, unknown>;
    } catch (err) {
      throw new GlassboxError(
        'TOKENIZER_INVALID',
        `${files.tokenizerPath} could not be read as JSON: ${(err as Error).message}.`,
        'Replace it with the tokenizer.json the model was published with.',
      );
    }
    const modelType = (json.model as { type?: unknown } | undefined)?.type;
    if (typeof modelType !== 'string' || !SUPPORTED_MODELS.includes(modelType)) {
      throw new GlassboxError(
        'TOKENIZER_INVALID',
        `${files.tokenizerPath}: tokenizer model type ${JSON.stringify(modelType ?? null)} is not supported (supported: ${SUPPORTED_MODELS.join(', ')}).`,
        'Use a model whose tokenizer.json is in the Hugging Face tokenizers format.',
      );
    }
    const config = files.tokenizerConfigPath ? readJson(files.tokenizerConfigPath) : {};
    try {
      const decoder = (json.decoder as { type?: unknown } | null | undefined)?.type;
      return new TextTokenizer(new Tokenizer(json, config), config, lineCutRule(json), decoder === 'ByteLevel');
    } catch (err) {
      throw new GlassboxError(
        'TOKENIZER_INVALID',
        `${files.tokenizerPath} could not be loaded: ${(err as Error).message}.`,
      );
    }
  }

  /** Milliseconds spent in encode() since the tokenizer was loaded (a request's share is the difference). */
  encodeMs = 0;

  /** Token ids for `text`, with no BOS/EOS added; special-token text in `text` maps to its id. */
  encode(text: string): number[] {
    const t0 = performance.now();
    try {
      if (this.incremental && text.length >= MIN_CUT_CHARS)
        return this.incremental.encode(text, (piece) => this.encodeWhole(piece));
      return this.encodeWhole(text);
    } finally {
      this.encodeMs += performance.now() - t0;
    }
  }

  /**
   * Token ids for text a user wrote (code, a path): as encode(), except that the text of a special
   * token in it (`<|endoftext|>` in a string literal) stays ordinary text, so a file's content
   * cannot end the document or move the FIM parts. Each such text is split after its first
   * character; text without one goes through encode() unchanged.
   */
  encodeText(text: string): number[] {
    let cut = -1;
    let literal = '';
    for (const t of this.specialTexts) {
      const at = text.indexOf(t);
      if (at >= 0 && (cut < 0 || at < cut)) [cut, literal] = [at, t];
    }
    if (cut < 0) return this.encode(text);
    return [
      ...this.encode(text.slice(0, cut + 1)),
      ...this.encodeText(text.slice(cut + 1, cut + literal.length)),
      ...this.encodeText(text.slice(cut + literal.length)),
    ];
  }

  /** encode() without the line cache (tests compare the two). */
  encodeWhole(text: string): number[] {
    return text.length === 0 ? [] : this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text for `ids`, exactly (no space clean-up, which would change code). */
  decode(ids: readonly number[], opts: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    if (this.concatenates && ids.length > 1) return this.decodeParts(ids, opts.skipSpecial ?? false).join('');
    return this.libraryDecode(ids, opts);
  }

  /**
   * The tokens' cached texts (a request's 1,000-token prompt: 0.05 ms instead of 0.5 for the
   * library), except runs of tokens that hold part of a UTF-8 sequence, which only decoding them
   * together gives: a token that decodes cleanly on its own starts and ends on a character
   * boundary. Such a run's text is its first token's part, the others' are ''. Joined: decode().
   */
  private decodeParts(ids: readonly number[], skipSpecial: boolean): string[] {
    const parts = ids.map((id) => (skipSpecial && this.specialIds.has(id) ? '' : this.tokenText(id)));
    for (let i = 0; i < parts.length; i++) {
      if (!parts[i].includes('\uFFFD')) continue;
      let end = i + 1;
      while (end < parts.length && parts[end].includes('\uFFFD')) end++;
      parts[i] = this.decodeBytes(ids.slice(i, end)) ?? this.libraryDecode(ids.slice(i, end), {});
      for (let j = i + 1; j < end; j++) parts[j] = '';
      i = end - 1;
    }
    return parts;
  }

  /** The last prompt decodePrompt() decoded: its ids, text, and the text's length before each id. */
  private lastPrompt: { ids: number[]; text: string; offsets: Int32Array } | null = null;

  /**
   * decode() of a prompt, special tokens included, reusing the text of the start it shares with
   * the previous prompt decoded here: a keystroke changes the last few of ~1,000 ids.
   */
  decodePrompt(ids: readonly number[]): string {
    if (!this.concatenates) return this.decode(ids);
    const last = this.lastPrompt;
    let k = 0;
    if (last) {
      const n = Math.min(last.ids.length, ids.length);
      while (k < n && last.ids[k] === ids[k]) k++;
      // a run of partial UTF-8 tokens decodes as one: start before it
      while (k > 0 && this.tokenText(ids[k - 1]).includes('\uFFFD')) k--;
    }
    const parts = this.decodeParts(ids.slice(k), false);
    const offsets = new Int32Array(ids.length + 1);
    if (last && k > 0) offsets.set(last.offsets.subarray(0, k + 1));
    for (let i = 0; i < parts.length; i++) offsets[k + i + 1] = offsets[k + i] + parts[i].length;
    const text = (last && k > 0 ? last.text.slice(0, last.offsets[k]) : '') + parts.join('');
    this.lastPrompt = { ids: [...ids], text, offsets };
    return text;
  }

  /**
   * Byte-level tokens' bytes joined and decoded as UTF-8 (invalid sequences become U+FFFD, as the
   * library's decoder does); null when one of them is not a byte-level token (an added token).
   * A library call costs about 15 µs, and a prompt with a few non-ASCII characters in its comments
   * made one per character.
   */
  private decodeBytes(ids: readonly number[]): string | null {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for (const id of ids) {
      let bytes = this.bytesCache.get(id);
      if (bytes === undefined) {
        const token = this.specialIds.has(id) ? undefined : this.idToToken(id);
        const list = token === undefined ? undefined : byteLevelBytes(token);
        this.bytesCache.set(id, (bytes = list ? Uint8Array.from(list) : null));
      }
      if (!bytes) return null;
      chunks.push(bytes);
      n += bytes.length;
    }
    const all = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) all.set(c, (at += c.length) - c.length);
    return UTF8.decode(all);
  }

  private libraryDecode(ids: readonly number[], opts: { skipSpecial?: boolean }): string {
    return this.tok.decode(ids as number[], {
      skip_special_tokens: opts.skipSpecial ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  /** The text of one token, cached: generation reports the top alternatives of every step. */
  tokenText(id: number): string {
    let t = this.textCache.get(id);
    if (t === undefined) {
      t = this.libraryDecode([id], {});
      this.textCache.set(id, t);
    }
    return t;
  }

  /** The vocabulary string of one id (Ġ-style for byte-level BPE); for display. */
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /**
   * A readable label for one token: its text when it decodes on its own, else its bytes in hex
   * (byte-level BPE tokens can hold part of a UTF-8 character), e.g. `\xF0\x9F`.
   */
  tokenLabel(id: number): string {
    const text = this.decode([id]);
    if (!text.includes('\uFFFD')) return text;
    const raw = this.idToToken(id);
    const bytes = raw === undefined ? undefined : byteLevelBytes(raw);
    return bytes
      ? bytes
          .map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`))
          .join('')
      : text;
  }

  tokenId(token: string): number | undefined {
    return this.addedTokens.get(token) ?? this.tok.token_to_id(token);
  }

  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }
}

const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true }); // a BOM in the text is text

/** GPT-2's byte-level alphabet: printable bytes stand for themselves, the rest are shifted to U+0100+. */
let byteDecoder: Map<string, number> | undefined;
function byteLevelBytes(token: string): number[] | undefined {
  if (!byteDecoder) {
    byteDecoder = new Map();
    let shifted = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      byteDecoder.set(String.fromCharCode(printable ? b : 256 + shifted++), b);
    }
  }
  const out: number[] = [];
  for (const ch of token) {
    const b = byteDecoder.get(ch);
    if (b === undefined) return undefined; // not a byte-level token
    out.push(b);
  }
  return out;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

/**
 * Turns a growing list of generated ids into text deltas, decoding only the last few ids each
 * step (a window that starts at the last point where the text was complete), not the whole list.
 * Byte-level tokens can end inside a UTF-8 sequence; that tail decodes to U+FFFD and is held
 * back until it completes.
 */
export class IncrementalDecoder {
  private ids: number[] = [];
  private windowStart = 0; // ids before this are settled text
  private readStart = 0; // ids [windowStart, readStart) decode to text already handed out

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly skipSpecial = true,
  ) {}

  /** Adds one id; returns the newly completed text (possibly empty). */
  push(id: number): string {
    const settled = this.readStart === this.ids.length; // no partial UTF-8 sequence is pending
    this.ids.push(id);
    if (settled && this.tokenizer.concatenates && !this.tokenizer.specialIds.has(id)) {
      // the token's own text, cached, instead of two decodes of the window (tokenizer.concatenates)
      const text = this.tokenizer.tokenText(id);
      if (!text.includes('\uFFFD')) {
        this.windowStart = this.readStart;
        this.readStart = this.ids.length;
        return text;
      }
    }
    const opts = { skipSpecial: this.skipSpecial };
    // Decoding from a little before the new ids keeps context-dependent decoders (spaces) right.
    const before = this.tokenizer.decode(this.ids.slice(this.windowStart, this.readStart), opts);
    const text = this.tokenizer.decode(this.ids.slice(this.windowStart), opts);
    if (text.length <= before.length || text.endsWith('\uFFFD')) return '';
    this.windowStart = this.readStart;
    this.readStart = this.ids.length;
    return text.slice(before.length);
  }

  /** Text not handed out yet (an incomplete tail), marking it handed out. */
  rest(): string {
    if (this.readStart === this.ids.length) return ''; // everything was handed out
    const opts = { skipSpecial: this.skipSpecial };
    const before = this.tokenizer.decode(this.ids.slice(this.windowStart, this.readStart), opts);
    const text = this.tokenizer.decode(this.ids.slice(this.windowStart), opts);
    this.windowStart = this.readStart = this.ids.length;
    return text.slice(before.length);
  }
}
