"""Comparing perceptual hashes of page images (`dossier.page_hashes`: a 256-bit difference
hash, one per page, recorded by processing): their distance, and the LSH keys that find hashes
within a few bits of each other among many.
"""

from __future__ import annotations

import numpy as np

from dossier.page_hashes import BITS, page_hash

__all__ = ["BITS", "distance", "distances", "lsh_keys", "page_hash"]

# Bit-sampling LSH: 16 keys, each 12 fixed random bit positions. Two hashes `d` bits apart
# share a key with probability 1 - (1 - (1 - d/256)^12)^16: 0.996 at d = 24, 0.4 % at d = 128
# (unrelated pages).
KEYS = 16
KEY_BITS = 12
_POSITIONS = np.random.default_rng(256).permuted(np.tile(np.arange(BITS), (KEYS, 1)), axis=1)[
    :, :KEY_BITS
]
# A page after the first is found by its first few keys only: a document's keys stay bounded
# (`near_duplicates.MAX_PAGE_KEYS`), and a re-filing shares several pages, each with a chance
# 1 - (1 - 0.906^12)^4 = 0.77 to share a key at d = 24 (two such pages: 0.95).
LATER_PAGE_KEYS = 4


def _bits(hex_hash: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(hex_hash), dtype=np.uint8))


def distance(first: str, second: str) -> int:
    """How many of the 256 bits differ."""
    return int(np.count_nonzero(_bits(first) != _bits(second)))


def distances(these: list[str], those: list[str]) -> np.ndarray:
    """Every page's distance to every other page: a len(these) x len(those) matrix."""
    first, second = _bit_rows(these), _bit_rows(those)
    # Bits set in one and not the other, both ways round: two matrix products (float32 counts
    # up to 256 exactly, and goes through BLAS) instead of a loop over pairs.
    return np.rint(first @ (1 - second).T + (1 - first) @ second.T).astype(np.int32)


def _bit_rows(hashes: list[str]) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8)
    return np.unpackbits(packed).reshape(len(hashes), BITS).astype(np.float32)


def lsh_keys(hex_hash: str, keys: int = KEYS) -> list[str]:
    """The hash's first `keys` LSH keys: hashes a few bits apart share at least one, almost
    surely with all 16."""
    bits = _bits(hex_hash)
    found = []
    for key, positions in enumerate(_POSITIONS[:keys]):
        value = int("".join("1" if bit else "0" for bit in bits[positions]), 2)
        found.append(f"p{key}:{value:03x}")
    return found
