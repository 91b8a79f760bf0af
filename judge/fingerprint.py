"""Shingles, MinHash signatures and LSH band keys: how texts are compared without scanning the corpus.

A post's tokens (see judge.text.tokens) become a set of 32-bit shingle hashes: word k-shingles for
spaced scripts, character k-shingles for Japanese and Chinese. Seeds are compared with exact shingle
sets (containment and Jaccard). Posts are compared with each other through a MinHash signature
(datasketch) whose bands are stored as keys in SQLite (storage.lsh): a new post looks up only the
posts sharing a band key, so the cost per post does not grow with the corpus.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

#: Word shingle size. Measured by bench/neardup_params.py: with 5% of words changed the true Jaccard
#: of copy and original is 0.75 at k=3 (0.70 with a dropped sentence and a new headline), but 0.63 at
#: k=5, where LSH at 0.8 finds almost none. Unrelated prose shares ~0.003 of its 3-shingles (0.026 at
#: k=2), so k=3 keeps false candidates away without losing edited copies.
WORD_SHINGLE = 3
#: Character shingle size for CJK text: k=3 gives the same 0.75 at 5% changed characters.
CHAR_SHINGLE = 3
#: MinHash permutations. 64 gives a Jaccard estimate with a standard error of about 0.06 at J=0.5,
#: enough to verify candidates, at half the signature size and hashing cost of 128.
NUM_PERM = 64
#: LSH banding: 16 bands of 4 rows (S-curve midpoint (1/16)^(1/4) = 0.5). Pairs at J=0.7 are
#: candidates with probability 1-(1-0.7^4)^16 = 0.998, at J=0.2 with 0.025. Measured: verified recall
#: 0.999 at 5% changed words and 0.986 with a dropped sentence and new headline (0.980 for CJK);
#: datasketch's own optimum for 0.5 (14 bands) passed only narrowly (0.977 / 0.972).
LSH_BANDS = 16
LSH_ROWS = 4
#: Fewer shingles than this and a text is too short to call anything a near-duplicate of it.
MIN_SHINGLES_FOR_LSH = 12
#: Fixed seed: signatures stored in the database must stay comparable across versions and runs.
MINHASH_SEED = 1

assert LSH_BANDS * LSH_ROWS == NUM_PERM

#: datasketch 2.0's 32-bit affine permutations; named explicitly so stored signatures keep meaning
#: the same thing if the library's default changes.
MINHASH_SCHEME = "affine32"

_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
_PERMUTATIONS = _TEMPLATE.permutations
# Odd 64-bit multipliers for folding a band's rows into one key (fixed for the same reason).
_BAND_MULT = np.random.RandomState(7).randint(1, 2**62, size=LSH_ROWS, dtype=np.int64).astype(np.uint64) | np.uint64(1)
_BAND_SALT = (np.arange(LSH_BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)


def shingles(mode: str, toks: list[str]) -> set[int]:
    """The set of 32-bit shingle hashes of a token list."""
    if mode == "char":
        k, sep = CHAR_SHINGLE, ""
    else:
        k, sep = WORD_SHINGLE, " "
    n = len(toks)
    if n == 0:
        return set()
    if n < k:
        return {zlib.crc32(sep.join(toks).encode("utf-8"))}
    crc, join = zlib.crc32, sep.join
    return {crc(join(window).encode("utf-8")) for window in zip(*(toks[i:] for i in range(k)))}


# The affine32 scheme, vectorised over a whole shingle set: MurmurHash3's 32-bit finaliser, then
# a*h + b (mod 2^32) for each of the permutations datasketch drew, then the minimum per permutation.
# datasketch's MinHash.update_batch does the same arithmetic but first builds a Python list of the
# values; tests/test_text.py checks both give the same signatures.
_PERM_A, _PERM_B = (np.asarray(p, dtype=np.uint32) for p in _PERMUTATIONS)
_EMPTY_SIGNATURE = _TEMPLATE.hashvalues.astype(np.uint32)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def signature(sh: set[int]) -> np.ndarray:
    """MinHash signature (NUM_PERM uint32 values) of a shingle set."""
    if not sh:
        return _EMPTY_SIGNATURE.copy()
    s1, m1, s2, m2, s3 = _FMIX32
    h = np.fromiter(sh, dtype=np.uint32, count=len(sh))
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return (h[:, None] * _PERM_A + _PERM_B).min(axis=0)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band (SQLite INTEGER)."""
    rows = sig.astype(np.uint64).reshape(LSH_BANDS, LSH_ROWS)
    with np.errstate(over="ignore"):
        keys = (rows * _BAND_MULT).sum(axis=1, dtype=np.uint64) ^ _BAND_SALT
    return keys.view(np.int64).tolist()


def sig_to_blob(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def blob_to_sig(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4")


@dataclass(frozen=True)
class Overlap:
    containment: float  # share of the reference's shingles found in the post
    jaccard: float
    shared: int  # number of shared shingles
    post_share: float  # share of the post's shingles that come from the reference


def overlap(reference: set[int], post: set[int]) -> Overlap:
    if not reference or not post:
        return Overlap(0.0, 0.0, 0, 0.0)
    shared = len(reference & post) if len(reference) < len(post) else len(post & reference)
    union = len(reference) + len(post) - shared
    return Overlap(shared / len(reference), shared / union, shared, shared / len(post))
