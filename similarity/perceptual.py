"""Perceptual hashes of page images: a 256-bit difference hash (dHash), which a rescan, a
re-render at another size, JPEG noise or a changed contrast barely moves, and the LSH keys
that find hashes within a few bits of each other among many.

A difference hash on a 17 x 16 grayscale: each bit says whether a pixel is brighter than its
right neighbour. 256 bits rather than the usual 64, because first pages of letters on one
letterhead are alike at 64 bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

SIDE = 16
BITS = SIDE * SIDE
# Bit-sampling LSH: 16 keys, each 12 fixed random bit positions. Two hashes `d` bits apart
# share a key with probability 1 - (1 - (1 - d/256)^12)^16: 0.996 at d = 24, 0.4 % at d = 128
# (unrelated pages).
KEYS = 16
KEY_BITS = 12
_POSITIONS = np.random.default_rng(256).permuted(np.tile(np.arange(BITS), (KEYS, 1)), axis=1)[
    :, :KEY_BITS
]
# A page this plain (its grey levels' spread, of 255) is blank or nearly: all blank pages are
# alike, which says nothing about the documents.
MIN_SPREAD = 6.0
TIE_MARGIN = 8.0


def page_hash(image: Image.Image) -> str | None:
    # Pillow is imported here, not with the module: the web server and the workers keep no image
    # library loaded (tests/edms/test_process_imports.py); only the duplicate check hashes.
    from PIL import Image, ImageOps

    """The page's difference hash as 64 hex digits, or None for a blank page."""
    # Stretched to full contrast first: a lighter or darker rescan is the same page.
    grey = ImageOps.autocontrast(ImageOps.exif_transpose(image).convert("L"), cutoff=1)
    pixels = np.asarray(grey.resize((SIDE + 1, SIDE), Image.Resampling.LANCZOS), dtype=float)
    if pixels.std() < MIN_SPREAD:
        return None
    # "Brighter by a margin": in a page's white (or flat) areas neighbours are equal, and
    # without it scanner and JPEG noise would decide those bits.
    bits = (pixels[:, 1:] > pixels[:, :-1] + TIE_MARGIN).flatten()
    return np.packbits(bits).tobytes().hex()


def _bits(hex_hash: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(hex_hash), dtype=np.uint8))


def distance(first: str, second: str) -> int:
    """How many of the 256 bits differ."""
    return int(np.count_nonzero(_bits(first) != _bits(second)))


def lsh_keys(hex_hash: str) -> list[str]:
    """The hash's LSH keys: hashes a few bits apart share at least one, almost surely."""
    bits = _bits(hex_hash)
    keys = []
    for key, positions in enumerate(_POSITIONS):
        value = int("".join("1" if bit else "0" for bit in bits[positions]), 2)
        keys.append(f"p{key}:{value:03x}")
    return keys
