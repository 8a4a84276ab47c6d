"""Training batches from the pre-tokenized splits (prepare_data.py), with FIM augmentation.

    from data import TokenSplit, PackedFimStream, validation_rows
    stream = PackedFimStream(TokenSplit("models/recipe/data/tokens", "train"), tok, fim_rate=0.5, seed=0)
    x, y = stream.next_batch(batch_size=8, seq_len=512)     # (B, T) int64 each; y == -1 is ignored
    state = stream.state_dict(); stream.load_state_dict(state)   # exact resume

Packing: files in a shuffled order (a new permutation each epoch), each followed by
<|endoftext|>, cut into rows of seq_len + 1 tokens.

Fill-in-the-middle (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in the
Middle"), applied per context ("context-level FIM", their section 3): a row is split at
<|endoftext|> into file pieces and each piece, with probability fim_rate, is decoded to text, cut
at two uniformly random *character* positions into prefix / middle / suffix, and the three parts
are encoded separately -- exactly as Glassbox's engine encodes a prompt (fim.ts) -- then laid out as

  PSM  <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|endoftext|>
  SPM  <|fim_prefix|> <|fim_suffix|> suffix <|fim_middle|> prefix middle <|endoftext|>

(SPM is the paper's variant where prefix and middle are contiguous; half of the FIM pieces use each
order). The engine's prompt is the PSM prefix up to <|fim_middle|>, and it stops at <|endoftext|>.
A FIM piece keeps the piece's length: the 4 added tokens come off the end of the suffix (as in
StarCoder's Megatron implementation; the engine likewise cuts a long suffix at its end), so the
middle and its closing <|endoftext|> are always in the row. A piece whose suffix is too short
stays plain. Rows that come out shorter after re-encoding are padded with ignored targets.
"""
import json
import os

import numpy as np
import torch

import bpe

EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = (bpe.SPECIAL_TOKENS.index(t) for t in (
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"))
IGNORE = -1


class TokenSplit:
    """One split of data/tokens: `tokens` (N,) uint16 memmap and `offsets` (files + 1,) int64."""

    def __init__(self, tokens_dir, split):
        self.name = split
        self.tokens = np.memmap(os.path.join(tokens_dir, f"{split}.bin"), dtype=np.uint16, mode="r")
        self.offsets = np.load(os.path.join(tokens_dir, f"{split}.idx.npy"))
        assert self.offsets[-1] == len(self.tokens), (split, self.offsets[-1], len(self.tokens))
        with open(os.path.join(tokens_dir, "meta.json")) as f:
            self.meta = json.load(f)["splits"][split]

    @property
    def num_files(self):
        return len(self.offsets) - 1

    def file(self, i):
        """Tokens of file i, its trailing <|endoftext|> included."""
        return self.tokens[self.offsets[i]:self.offsets[i + 1]]


def fim_transform(tok, ids, rng, length, spm_rate=0.5):
    """ids (a file piece, no <|endoftext|>) -> FIM token list of at most `length` tokens ending in
    <|endoftext|>, or None when the piece is too short or does not decode to whole characters.
    The suffix loses tokens at its end to fit (as the engine cuts a long suffix), so the middle and
    its closing <|endoftext|> are always trained on."""
    text = tok.decode(ids)
    if len(text) < 2 or "\ufffd" in text:
        return None
    lo, hi = sorted(rng.integers(0, len(text) + 1, size=2))        # character positions
    prefix, middle, suffix = tok.encode(text[:lo]), tok.encode(text[lo:hi]), tok.encode(text[hi:])
    over = len(prefix) + len(middle) + len(suffix) + 4 - length
    if over > 0:
        if over > len(suffix):
            return None
        suffix = suffix[:len(suffix) - over]
    if rng.random() < spm_rate:
        return [FIM_PREFIX, FIM_SUFFIX] + suffix + [FIM_MIDDLE] + prefix + middle + [EOT]
    return [FIM_PREFIX] + prefix + [FIM_SUFFIX] + suffix + [FIM_MIDDLE] + middle + [EOT]


class PackedFimStream:
    """Endless rows of packed files with context-level FIM; state_dict() resumes exactly."""

    def __init__(self, split, tok, fim_rate=0.5, spm_rate=0.5, seed=0):
        self.split, self.tok = split, tok
        self.fim_rate, self.spm_rate, self.seed = fim_rate, spm_rate, seed
        self.epoch, self.cursor = 0, 0             # position in this epoch's permutation
        self.buffer = np.zeros(0, dtype=np.uint16)  # tokens read but not yet used
        self.rng = np.random.default_rng([seed, 1])  # FIM decisions and split points
        self.tokens_read = 0                        # stream tokens consumed (before FIM)
        self._perm = None

    def _permutation(self):
        if self._perm is None or self._perm[0] != self.epoch:
            order = np.random.default_rng([self.seed, 0, self.epoch]).permutation(self.split.num_files)
            self._perm = (self.epoch, order)
        return self._perm[1]

    def _read(self, n):
        """The next n tokens of the packed stream."""
        parts, have = [self.buffer], len(self.buffer)
        while have < n:
            perm = self._permutation()
            if self.cursor == len(perm):
                self.epoch, self.cursor = self.epoch + 1, 0
                continue
            f = self.split.file(perm[self.cursor])
            self.cursor += 1
            parts.append(np.asarray(f))
            have += len(f)
        joined = np.concatenate(parts)
        self.buffer = joined[n:]
        self.tokens_read += n
        return joined[:n]

    def next_row(self, seq_len):
        """(seq_len + 1,) int64 tokens and a (seq_len + 1,) bool mask of real (not padding) tokens."""
        raw = self._read(seq_len + 1)
        if self.fim_rate <= 0:
            return raw.astype(np.int64), np.ones(seq_len + 1, dtype=bool)
        out, start = [], 0
        ends = np.flatnonzero(raw == EOT)
        for end in list(ends) + [len(raw)]:
            piece = raw[start:end].tolist()               # a file, or the part of one in this row
            has_eot = end < len(raw)
            fim = None
            if piece and self.rng.random() < self.fim_rate:
                fim = fim_transform(self.tok, piece, self.rng, len(piece) + has_eot, self.spm_rate)
            out.extend(fim if fim is not None else piece + [EOT] * has_eot)
            start = end + 1
        row = np.asarray(out[:seq_len + 1], dtype=np.int64)
        real = np.ones(seq_len + 1, dtype=bool)
        if len(row) < seq_len + 1:                        # re-encoding came out shorter: pad
            real[len(row):] = False
            row = np.concatenate([row, np.full(seq_len + 1 - len(row), EOT, dtype=np.int64)])
        return row, real

    def next_batch(self, batch_size, seq_len):
        """x, y: (B, T) int64; y is x shifted by one, IGNORE where the target is padding."""
        rows, reals = zip(*(self.next_row(seq_len) for _ in range(batch_size)))
        rows = torch.from_numpy(np.stack(rows))          # (B, T+1)
        reals = torch.from_numpy(np.stack(reals))        # (B, T+1)
        x, y = rows[:, :-1].clone(), rows[:, 1:].clone()  # (B, T) each
        y[~reals[:, 1:]] = IGNORE
        return x, y

    def state_dict(self):
        return {"epoch": self.epoch, "cursor": self.cursor, "buffer": self.buffer.tolist(),
                "rng": self.rng.bit_generator.state, "tokens_read": self.tokens_read,
                "seed": self.seed, "fim_rate": self.fim_rate, "spm_rate": self.spm_rate}

    def load_state_dict(self, s):
        assert (s["seed"], s["fim_rate"], s["spm_rate"]) == (self.seed, self.fim_rate, self.spm_rate), s
        self.epoch, self.cursor, self.tokens_read = s["epoch"], s["cursor"], s["tokens_read"]
        self.buffer = np.asarray(s["buffer"], dtype=np.uint16)
        self.rng.bit_generator.state = s["rng"]


def validation_rows(split, seq_len, max_tokens):
    """A fixed validation set: max_tokens // seq_len rows of seq_len + 1 tokens of the split's
    stream (files in order, no FIM), at evenly spaced offsets so every part of the split (every
    package) is represented. (N, T+1) int64."""
    n_rows = max(1, min(max_tokens, len(split.tokens) - 1) // seq_len)
    span = len(split.tokens) - (seq_len + 1)
    starts = [i * span // max(1, n_rows - 1) for i in range(n_rows)] if n_rows > 1 else [0]
    rows = [np.asarray(split.tokens[s:s + seq_len + 1], dtype=np.int64) for s in starts]
    return torch.from_numpy(np.stack(rows))


class RepoRows:
    """Fixed training rows from repo_examples.ts (data/repo/{split}.bin: uint16 rows of seq_len + 1
    tokens, repository-level completion examples and sequences), in a new random order each epoch;
    state_dict() resumes exactly."""

    def __init__(self, repo_dir, split, seq_len, seed=0):
        self.rows = np.memmap(os.path.join(repo_dir, f"{split}.bin"), dtype=np.uint16, mode="r")
        assert len(self.rows) % (seq_len + 1) == 0, (len(self.rows), seq_len)
        self.rows = self.rows.reshape(-1, seq_len + 1)                  # (N, T+1)
        self.seq_len, self.seed = seq_len, seed
        self.epoch, self.cursor = 0, 0

    def __len__(self):
        return len(self.rows)

    def next_row(self):
        order = np.random.default_rng([self.seed, 2, self.epoch]).permutation(len(self.rows))
        if self.cursor == len(order):
            self.epoch, self.cursor = self.epoch + 1, 0
            return self.next_row()
        row = np.asarray(self.rows[order[self.cursor]], dtype=np.int64)
        self.cursor += 1
        return row

    def state_dict(self):
        return {"epoch": self.epoch, "cursor": self.cursor, "seed": self.seed}

    def load_state_dict(self, s):
        assert s["seed"] == self.seed, s
        self.epoch, self.cursor = s["epoch"], s["cursor"]


class MixedStream:
    """Rows from RepoRows with probability repo_rate, else from the packed FIM stream (so the model
    keeps what pre-training taught it); same interface as PackedFimStream."""

    def __init__(self, packed, repo, repo_rate, seed=0):
        self.packed, self.repo, self.repo_rate = packed, repo, repo_rate
        self.rng = np.random.default_rng([seed, 3])

    @property
    def tokens_read(self):
        return self.packed.tokens_read

    def next_batch(self, batch_size, seq_len):
        assert seq_len == self.repo.seq_len, (seq_len, self.repo.seq_len)
        rows, reals = [], []
        for _ in range(batch_size):
            if self.rng.random() < self.repo_rate:
                rows.append(self.repo.next_row())
                reals.append(np.ones(seq_len + 1, dtype=bool))
            else:
                r, m = self.packed.next_row(seq_len)
                rows.append(r)
                reals.append(m)
        rows = torch.from_numpy(np.stack(rows))                          # (B, T+1)
        reals = torch.from_numpy(np.stack(reals))                        # (B, T+1)
        x, y = rows[:, :-1].clone(), rows[:, 1:].clone()                 # (B, T) each
        y[~reals[:, 1:]] = IGNORE
        return x, y

    def state_dict(self):
        return {"packed": self.packed.state_dict(), "repo": self.repo.state_dict(),
                "rng": self.rng.bit_generator.state, "repo_rate": self.repo_rate}

    def load_state_dict(self, s):
        assert s["repo_rate"] == self.repo_rate, s
        self.packed.load_state_dict(s["packed"])
        self.repo.load_state_dict(s["repo"])
        self.rng.bit_generator.state = s["rng"]
