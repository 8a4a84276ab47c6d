"""Byte-level BPE tokenizer: train, encode, decode, save as Hugging Face `tokenizer.json`.

    /usr/bin/python3 models/recipe/bpe.py --vocab-size 8192 --out DIR [--check] FILE...

(--check: encode a few of the files and ROUND_TRIP_SAMPLES with both JavaScript libraries too,
via check_tokenizer.mjs, and fail unless all three agree and round-trip.)

GPT-2's byte-level scheme: text -> UTF-8 bytes -> one printable unicode char per byte -> BPE.
Every byte has a token, so decode(encode(x)) == x for any valid Unicode string.

The pre-tokenizing regex is written with explicit ASCII character classes only (no \\s \\d \\w
\\p{..}), because three regex engines must split identically: Python `re` (here),
JavaScript RegExp with the `u` flag (@huggingface/tokenizers) and Oniguruma (the Rust
`tokenizers` library). Non-ASCII characters count as letters.

Token ids: the special tokens first (0..6, stable whatever the vocab size), then the 256 byte
tokens in byte order, then one token per merge in merge order.
"""
import argparse
import collections
import heapq
import json
import os
import re
import subprocess
import tempfile

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|fim_pad|>", "<|file_sep|>", "<|explain|>",
]
EOS_TOKEN = "<|endoftext|>"

# strings that must round-trip: emoji (with ZWJ and skin tone), CJK, CRLF, tabs, odd whitespace
ROUND_TRIP_SAMPLES = [
    "héllo wörld 😀👍🏽 👨\u200d👩\u200d👧 日本語のテキスト、中文。한국어",
    "a\r\n\tb\r\n\r\n\t\tc  \t \n",
    "x = 1234567 + 0.5e-10\n",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|><|endoftext|>",
    "\u00a0\u2028\u3000 \ufeffzero\u200bwidth \U0001d518\U0001d52b",
    "\x00\x01\x7f\x1b[0m", " ", "\n", "   leading", "trailing   ", "\u0301a\u0301",
]

_LETTER = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"       # A-Z a-z _ and every non-ASCII char
_PUNCT = r"[\x21-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7e]"  # ASCII printable, not letter/digit/_
_SPACE = r"[\t\n\x0b\x0c\r ]"                          # ASCII whitespace only
_NOT_SPACE = r"[^\t\n\x0b\x0c\r ]"
PRETOKENIZE_PATTERN = "|".join([
    " ?" + _LETTER + "+",                 # identifiers and words, with one leading space
    "[0-9]{1,3}",                         # numbers in chunks of at most 3 digits
    " ?" + _PUNCT + "+",                  # operator / punctuation runs
    _SPACE + r"*[\r\n]+",                 # line breaks (with trailing spaces before them)
    _SPACE + "+(?!" + _NOT_SPACE + ")",   # indentation, leaving one space for the next word
    _SPACE + "+",
    r"[\x00-\x08\x0e-\x1f\x7f]+",         # other control characters
])
_PRETOKENIZE_RE = re.compile(PRETOKENIZE_PATTERN)


def bytes_to_unicode():
    """GPT-2's map from the 256 byte values to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {c: b for b, c in BYTE_ENCODER.items()}
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in sorted(SPECIAL_TOKENS, key=len, reverse=True)) + ")")


def pretokenize(text):
    """Split like HF `Split(Regex, behavior=Isolated)`: matches and the gaps between them."""
    pieces, pos = [], 0
    for m in _PRETOKENIZE_RE.finditer(text):
        if m.start() > pos:
            pieces.append(text[pos:m.start()])
        if m.end() > m.start():
            pieces.append(m.group())
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def split_special(text):
    """Yield (segment, is_special), special tokens matched first like HF added tokens."""
    for i, seg in enumerate(_SPECIAL_RE.split(text)):
        if seg:
            yield seg, i % 2 == 1


def train(texts, vocab_size, min_frequency=2, verbose=False):
    """Learn merges until the vocabulary (specials + 256 bytes + merges) has vocab_size tokens.

    Word-frequency dict, pair counts, and an index pair -> words; each merge only revisits the
    words that contain the pair, and a lazy max-heap picks the next pair.
    """
    word_freq = collections.Counter()
    for text in texts:
        for seg, special in split_special(text):
            if not special:
                word_freq.update(pretokenize(seg))
    tokens = list(SPECIAL_TOKENS) + [BYTE_ENCODER[b] for b in range(256)]
    token_id = {t: i for i, t in enumerate(tokens)}
    base = len(SPECIAL_TOKENS)
    words = [[base + b for b in w.encode("utf-8")] for w in word_freq]
    freqs = list(word_freq.values())

    pair_count = collections.defaultdict(int)
    pair_where = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for p in zip(w, w[1:]):
            pair_count[p] += f
            pair_where[p].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    merges = []
    while len(tokens) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg:
            continue  # stale heap entry
        if -neg < min_frequency:
            break
        a, b = pair
        merged = tokens[a] + tokens[b]
        if merged not in token_id:   # two merges can spell the same string: one token
            token_id[merged] = len(tokens)
            tokens.append(merged)
        new = token_id[merged]
        merges.append((tokens[a], tokens[b]))
        delta = collections.defaultdict(int)
        for i in pair_where.pop(pair):
            w, f = words[i], freqs[i]
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            if len(out) == len(w):
                continue  # index is a superset; this word no longer holds the pair
            for p in zip(w, w[1:]):
                delta[p] -= f
            for p in zip(out, out[1:]):
                delta[p] += f
                pair_where[p].add(i)
            words[i] = out
        for p, d in delta.items():
            if d:
                pair_count[p] += d
                if pair_count[p] > 0:
                    heapq.heappush(heap, (-pair_count[p], p))
                else:
                    del pair_count[p]
        if verbose and len(merges) % 1000 == 0:
            print(f"  {len(merges)} merges, last {merged!r} x{-neg}")
    return Tokenizer(tokens, merges)


class Tokenizer:
    """Encoder/decoder for a trained vocabulary; matches HF tokenizers on our tokenizer.json."""

    def __init__(self, tokens, merges):
        self.tokens = tokens                       # id -> token string (byte-level chars)
        self.token_id = {t: i for i, t in enumerate(tokens)}
        self.merges = merges                       # [(left, right)] in rank order
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.cache = {}

    @property
    def vocab_size(self):
        return len(self.tokens)

    def special_id(self, token):
        return self.token_id[token]

    def _bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        word = [BYTE_ENCODER[b] for b in piece.encode("utf-8")]
        while len(word) > 1:
            # lowest-rank pair; merge all its occurrences left to right
            rank, pair = min((self.ranks.get(p, 1 << 60), p) for p in zip(word, word[1:]))
            if rank == 1 << 60:
                break
            out, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and (word[j], word[j + 1]) == pair:
                    out.append(word[j] + word[j + 1])
                    j += 2
                else:
                    out.append(word[j])
                    j += 1
            word = out
        ids = [self.token_id[t] for t in word]
        self.cache[piece] = ids
        return ids

    def encode(self, text):
        """Token ids; special-token strings in text become their ids; nothing is added."""
        ids = []
        for seg, special in split_special(text):
            if special:
                ids.append(self.token_id[seg])
            else:
                for piece in pretokenize(seg):
                    ids.extend(self._bpe(piece))
        return ids

    def decode(self, ids):
        out, buf = [], bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in SPECIAL_TOKENS:  # specials are not byte-level strings
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(t)
            else:
                buf.extend(BYTE_DECODER[c] for c in t)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)

    def to_json(self):
        """Hugging Face tokenizers `tokenizer.json`."""
        added = [{"id": self.token_id[t], "content": t, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True} for t in SPECIAL_TOKENS]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": PRETOKENIZE_PATTERN},
                 "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": False},
            ]},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                        "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(self.tokens)},
                      "merges": [[a, b] for a, b in self.merges]},
        }

    def config_json(self, model_max_length):
        """Hugging Face `tokenizer_config.json` (transformers' PreTrainedTokenizerFast)."""
        return {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model_max_length,
            "bos_token": None,
            "eos_token": EOS_TOKEN,
            "pad_token": EOS_TOKEN,
            "unk_token": None,
            "add_bos_token": False,
            "add_eos_token": False,
            "add_prefix_space": False,
            "clean_up_tokenization_spaces": False,  # transformers.js defaults to true: breaks round trip
            "added_tokens_decoder": {str(self.token_id[t]): {
                "content": t, "lstrip": False, "normalized": False, "rstrip": False,
                "single_word": False, "special": True} for t in SPECIAL_TOKENS},
            "additional_special_tokens": [t for t in SPECIAL_TOKENS if t != EOS_TOKEN],
        }

    def save(self, out_dir, model_max_length):
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.config_json(model_max_length), f, ensure_ascii=False, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path):
        """Read back a tokenizer.json written by `save` (a directory or the file)."""
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        m = j["model"]
        tokens = [None] * len(m["vocab"])
        for t, i in m["vocab"].items():
            tokens[i] = t
        assert None not in tokens, "vocab ids must be contiguous"
        assert j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] == PRETOKENIZE_PATTERN
        merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ", 1)) for x in m["merges"]]
        return cls(tokens, merges)


def check_with_node(tok, tok_dir, texts):
    """Encode texts here and with both JS libraries (check_tokenizer.mjs); assert all agree."""
    cases = [{"text": t, "ids": tok.encode(t)} for t in texts]
    for c in cases:
        assert tok.decode(c["ids"]) == c["text"], c["text"][:80]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cases, f)
    try:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_tokenizer.mjs")
        res = subprocess.run(["node", script, tok_dir, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0 and report["failed"] == 0, (report, res.stderr)
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--vocab-size", type=int, required=True)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--model-max-length", type=int, default=2048)
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true", help="compare with the JS tokenizers (node)")
    args = ap.parse_args()
    texts = []
    for p in sorted(args.files):
        with open(p, encoding="utf-8", newline="") as f:
            texts.append(f.read())
    tok = train(texts, args.vocab_size, args.min_frequency, verbose=True)
    tok.save(args.out, args.model_max_length)
    print(f"vocab {tok.vocab_size} ({len(tok.merges)} merges) -> {args.out}")
    if args.check:
        print(check_with_node(tok, args.out, texts[:5] + ROUND_TRIP_SAMPLES))


if __name__ == "__main__":
    main()
