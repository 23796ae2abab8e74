"""The perceptual hash of a page image, as processing records it on a version (one per page,
`PageHashes`) and the near-duplicate check compares it: a 256-bit difference hash (dHash),
which a rescan, a re-render at another size, JPEG noise or a changed contrast barely moves.

It lives in the domain because two apps meet here without importing each other: `ingest`
computes it in its sandbox (the only place an untrusted file is decoded), `similarity` compares
it (and hashes the first-page thumbnail of a version processed before pages were hashed). One
definition keeps the two comparable.

A difference hash on a 17 x 16 grayscale: each bit says whether a pixel is brighter than its
right neighbour. 256 bits rather than the usual 64, because first pages of letters on one
letterhead are alike at 64 bits.
"""

from __future__ import annotations

import itertools
import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

SIDE = 16
BITS = SIDE * SIDE
# A page this plain (its grey levels' spread, of 255) is blank or nearly: all blank pages are
# alike, which says nothing about the documents.
MIN_SPREAD = 6.0
TIE_MARGIN = 8.0


def page_hash(image: Image.Image) -> str | None:
    """The page's difference hash as 64 hex digits, or None for a blank page."""
    # Pillow is imported here, not with the module: the web server and the workers keep no image
    # library loaded (tests/edms/test_process_imports.py). No numpy either: the sandbox child
    # that hashes pages would import it afresh for each file (a third of a second).
    from PIL import Image, ImageOps

    # Stretched to full contrast first: a lighter or darker rescan is the same page.
    grey = ImageOps.autocontrast(ImageOps.exif_transpose(image).convert("L"), cutoff=1)
    small = grey.resize((SIDE + 1, SIDE), Image.Resampling.LANCZOS)
    pixels = list(small.getdata())
    if statistics.pstdev(pixels) < MIN_SPREAD:
        return None
    value = 0
    for row in range(SIDE):
        line = pixels[row * (SIDE + 1) : (row + 1) * (SIDE + 1)]
        for left, right in itertools.pairwise(line):
            # "Brighter by a margin": in a page's white (or flat) areas neighbours are equal,
            # and without it scanner and JPEG noise would decide those bits.
            value = value << 1 | (right > left + TIE_MARGIN)
    return f"{value:0{BITS // 4}x}"
