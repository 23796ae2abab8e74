"""MinHash signatures of a text's word shingles, and the LSH band keys that find texts sharing
most of their shingles without comparing every pair.

A small implementation rather than `datasketch`: its LSH index lives in memory (or Redis), and
ours must live in the database beside the documents, survive restarts and be filtered by
permission; the signature itself is twenty lines. The hash family is fixed (a seeded generator),
so signatures computed by any process, in any year, compare.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

PERMUTATIONS = 128
# 16 bands of 8 rows: two texts whose shingle sets overlap by Jaccard J share at least one band
# with probability 1 - (1 - J^8)^16: 0.99 at J = 0.8, 0.47 at J = 0.6, 0.03 at J = 0.4.
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE_WORDS = 5
# Fewer shingles than this and a text is too short to call anything its duplicate ("Claims",
# a one-line cover letter): it gets no signature.
MIN_SHINGLES = 20

_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_generator = np.random.default_rng(20)
# a, b < 2**32 and shingle hashes < 2**32: a * h + b stays below 2**64, so uint64 never wraps.
_A = _generator.integers(1, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_B = _generator.integers(0, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """The text's words, case-folded: layout, punctuation and line breaks do not count."""
    return [word.casefold() for word in _WORD.findall(text)]


def shingle_hashes(text: str) -> np.ndarray:
    """The distinct 32-bit hashes of the text's runs of `SHINGLE_WORDS` words."""
    tokens = words(text)
    shingles = {
        " ".join(tokens[i : i + SHINGLE_WORDS])
        for i in range(max(len(tokens) - SHINGLE_WORDS + 1, 0))
    }
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest()) for s in shingles),
        dtype=np.uint64,
        count=len(shingles),
    )


def signature(text: str) -> list[int] | None:
    """The text's MinHash signature (`PERMUTATIONS` 32-bit integers), or None when it has fewer
    than `MIN_SHINGLES` shingles."""
    hashes = shingle_hashes(text)
    if len(hashes) < MIN_SHINGLES:
        return None
    minimum = np.full(PERMUTATIONS, _MASK32, dtype=np.uint64)
    # In slices, so a 5 MB text never needs a (shingles x permutations) matrix at once.
    for start in range(0, len(hashes), 4096):
        chunk = hashes[start : start + 4096, None]
        permuted = ((chunk * _A + _B) % _MERSENNE) & _MASK32
        minimum = np.minimum(minimum, permuted.min(axis=0))
    return [int(value) for value in minimum]


def band_keys(sig: list[int]) -> list[str]:
    """One key per band of the signature: texts with a key in common are candidates."""
    values = np.asarray(sig, dtype=np.uint32)
    keys = []
    for band in range(BANDS):
        rows = values[band * ROWS : (band + 1) * ROWS].tobytes()
        keys.append(f"t{band}:{hashlib.blake2b(rows, digest_size=8).hexdigest()}")
    return keys


def similarity(first: list[int], second: list[int]) -> float:
    """The estimated Jaccard similarity of the two texts' shingle sets (0..1)."""
    return float(np.mean(np.asarray(first) == np.asarray(second)))
