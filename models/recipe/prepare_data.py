"""Tokenizer for the real model, and the corpus splits pre-tokenized once into uint16 memmaps.

    nice -n 10 /usr/bin/python3 models/recipe/prepare_data.py            # both stages
    prepare_data.py --tokenizer     train the BPE (bpe.py) on the train split -> data/tokenizer/
    prepare_data.py --encode        encode train/valid/test with it -> data/tokens/

Reads  data/corpus/{train,valid,test}.jsonl (corpus.py; one JSON object per file:
       package, version, licence, path, lang, text).
Writes data/tokenizer/{tokenizer.json,tokenizer_config.json}   8,192 tokens, ids 0..6 special
       data/tokens/{split}.bin      uint16 token ids: every file's tokens followed by <|endoftext|>,
                                    files in the jsonl's order
       data/tokens/{split}.idx.npy  int64 (files + 1,) offsets: file i is bin[idx[i]:idx[i+1]]
                                    (its trailing <|endoftext|> included)
       data/tokens/meta.json        tokens, bytes, files per split and language; bytes/token

The tokenizer round-trips every file (asserted while encoding) and is checked against both
JavaScript tokenizers in node (bpe.check_with_node) on sample files and bpe.ROUND_TRIP_SAMPLES.
`--corpus DIR` and `--data DIR` point elsewhere (smoke tests on a small corpus).
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import time

import numpy as np

import bpe

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(RECIPE_DIR, "data")
SPLITS = ("train", "valid", "test")
VOCAB_SIZE = 8192
MODEL_MAX_LENGTH = 2048
EOT = bpe.SPECIAL_TOKENS.index(bpe.EOS_TOKEN)


def read_split(corpus_dir, split):
    """[dict(package, version, licence, path, lang, text)] in file order."""
    with open(os.path.join(corpus_dir, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def corpus_digests(corpus_dir):
    """sha256 of each split's jsonl: which corpus build these tokens came from (compare with
    corpus_manifest.json's "sha256")."""
    out = {}
    for split in SPLITS:
        with open(os.path.join(corpus_dir, f"{split}.jsonl"), "rb") as f:
            out[split] = hashlib.sha256(f.read()).hexdigest()
    return out


def train_tokenizer(corpus_dir, data_dir, vocab_size=VOCAB_SIZE):
    t0 = time.time()
    docs = read_split(corpus_dir, "train")
    tok = bpe.train([d["text"] for d in docs], vocab_size, verbose=True)
    assert tok.vocab_size == vocab_size, tok.vocab_size
    assert [tok.special_id(t) for t in bpe.SPECIAL_TOKENS] == list(range(len(bpe.SPECIAL_TOKENS)))
    out = os.path.join(data_dir, "tokenizer")
    tok.save(out, MODEL_MAX_LENGTH)
    with open(os.path.join(out, "corpus_sha256.json"), "w") as f:
        json.dump(corpus_digests(corpus_dir), f, indent=1)
    # a few files of each language from every split, plus the hard round-trip strings
    samples = []
    for split in SPLITS:
        by_lang = {}
        for d in read_split(corpus_dir, split):
            by_lang.setdefault(d["lang"], []).append(d["text"])
        for texts in by_lang.values():
            samples.extend(texts[:3])
    report = bpe.check_with_node(tok, out, samples + bpe.ROUND_TRIP_SAMPLES)
    print(f"tokenizer: {tok.vocab_size} tokens from {len(docs)} files in {time.time() - t0:.0f}s -> {out}; "
          f"node check {report}")
    return tok


_TOK = None


def _init_worker(tok_dir):
    global _TOK
    _TOK = bpe.Tokenizer.load(tok_dir)


def _encode(text):
    ids = _TOK.encode(text)
    assert _TOK.decode(ids) == text
    return np.asarray(ids + [EOT], dtype=np.uint16)


def encode_splits(corpus_dir, data_dir, workers=2):
    tok_dir = os.path.join(data_dir, "tokenizer")
    tok = bpe.Tokenizer.load(tok_dir)
    assert tok.vocab_size <= 65536, "uint16 token ids"
    out_dir = os.path.join(data_dir, "tokens")
    os.makedirs(out_dir, exist_ok=True)
    meta = {"tokenizer_vocab_size": tok.vocab_size, "eot": EOT, "splits": {},
            "corpus_sha256": corpus_digests(corpus_dir)}
    for split in SPLITS:
        t0 = time.time()
        docs = read_split(corpus_dir, split)
        chunks, offsets, stats = [], [0], {}
        with multiprocessing.Pool(workers, _init_worker, (tok_dir,)) as pool:
            # every file must round-trip (asserted in the workers)
            encoded = pool.imap(_encode, (d["text"] for d in docs), chunksize=32)
            for d, ids in zip(docs, encoded):
                chunks.append(ids)
                offsets.append(offsets[-1] + len(ids))
                s = stats.setdefault(d["lang"], {"files": 0, "bytes": 0, "tokens": 0})
                s["files"] += 1
                s["bytes"] += len(d["text"].encode("utf-8"))
                s["tokens"] += len(ids) - 1
        arr = np.concatenate(chunks)
        arr.tofile(os.path.join(out_dir, f"{split}.bin"))
        np.save(os.path.join(out_dir, f"{split}.idx.npy"), np.asarray(offsets, dtype=np.int64))
        n_bytes = sum(s["bytes"] for s in stats.values())
        n_tok = sum(s["tokens"] for s in stats.values())  # without the separators
        meta["splits"][split] = {"files": len(docs), "bytes": n_bytes, "tokens": n_tok,
                                 "tokens_with_separators": int(len(arr)),
                                 "bytes_per_token": n_bytes / n_tok, "by_lang": stats}
        print(f"{split}: {len(docs)} files, {n_bytes / 1e6:.1f} MB -> {n_tok / 1e6:.2f}M tokens "
              f"({n_bytes / n_tok:.2f} bytes/token) in {time.time() - t0:.0f}s")
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", action="store_true", help="train the tokenizer only")
    ap.add_argument("--encode", action="store_true", help="encode the splits only")
    ap.add_argument("--corpus", default=os.path.join(DATA_DIR, "corpus"))
    ap.add_argument("--data", default=DATA_DIR, help="where tokenizer/ and tokens/ go")
    ap.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    args = ap.parse_args()
    both = not (args.tokenizer or args.encode)
    if args.tokenizer or both:
        train_tokenizer(args.corpus, args.data, args.vocab_size)
    if args.encode or both:
        encode_splits(args.corpus, args.data)


if __name__ == "__main__":
    main()
