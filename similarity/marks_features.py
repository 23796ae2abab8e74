"""What a mark's image looks like to the similar-marks search (issue 20, point 3): features
robust to scale, small rotation, colour change, a 10 % crop and added words, and the pHash
baseline they are measured against (`python -m tests.bench.marks`).

The shape descriptor, classic rather than learned (no package here carries CNN weights we may
ship):

1. **Colour away**: the background is the colour of the image's border; the figure is every
   pixel far from it, as a mask. A red mark and the same mark in blue, or dark on light and
   light on dark, give the same mask.
2. **Scale away**: the mask is cut to the figure's bounding box, centred in a square and
   reduced to `SIDE` x `SIDE` grey levels (area averaging), so size and margins do not count.
3. **Words apart**: a mark filed with words added (a slogan under the logo) is the same figure:
   the mask's bands of rows separated by empty rows are found, and the largest band is
   described too. Two marks are compared on the best pair of their views.
4. **Rotation at query time**: the query's mask is also turned by ±5°, ±10°, ±15°; each stored
   mark's similarity is the best over the turns (the stored side has one vector per view).

Each view is a unit vector (mean removed), so similarity is a dot product and 50,000 marks are
one matrix product per query view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

SIDE = 16
DIMENSIONS = SIDE * SIDE
# Views stored per mark: the whole figure, and its largest band of rows (words set apart).
VIEWS = 2
QUERY_TURNS = (0, -5, 5, -10, 10, -15, 15)
# How far (0..441, RGB distance) a pixel must be from the background to be part of the figure.
FIGURE_DISTANCE = 60.0
WORKING_SIDE = 128  # masks are made at this size at most: enough for a 16 x 16 descriptor
# Empty rows this share of the figure's height set a band apart.
BAND_GAP = 0.04


def load(image: Image.Image) -> Image.Image:
    """The image upright, in RGB over white (transparency is background), at most
    `WORKING_SIDE` px on its longer side."""
    from PIL import Image, ImageOps  # here: the web server and workers keep no image library

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    image = image.convert("RGB")
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR)
    return image


def figure_mask(image: Image.Image) -> np.ndarray:
    """True where the figure is: pixels far from the background (the border's median colour)."""
    pixels = np.asarray(image, dtype=np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    return np.linalg.norm(pixels - background, axis=2) > FIGURE_DISTANCE


def _square_vector(mask: np.ndarray) -> np.ndarray | None:
    from PIL import Image  # here: the web server and workers keep no image library

    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    cut = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = cut.shape
    side = max(height, width)
    square = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = cut * 255
    small = Image.fromarray(square).resize((SIDE, SIDE), Image.Resampling.BOX)
    vector = np.asarray(small, dtype=np.float32).flatten()
    vector -= vector.mean()
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else None


def _largest_band(mask: np.ndarray) -> np.ndarray:
    """The mask's largest band of rows (by figure pixels) between empty stretches."""
    filled = mask.sum(axis=1)
    rows = np.flatnonzero(filled)
    if len(rows) == 0:
        return mask
    gap = max(2, int(BAND_GAP * (rows[-1] - rows[0] + 1)))
    bands, start, last = [], rows[0], rows[0]
    for row in rows[1:]:
        if row - last > gap:
            bands.append((start, last))
            start = row
        last = row
    bands.append((start, last))
    top, bottom = max(bands, key=lambda band: filled[band[0] : band[1] + 1].sum())
    band = np.zeros_like(mask)
    band[top : bottom + 1] = mask[top : bottom + 1]
    return band


def _views(mask: np.ndarray) -> list[np.ndarray]:
    whole = _square_vector(mask)
    if whole is None:
        return []
    band = _square_vector(_largest_band(mask))
    return [whole, band if band is not None else whole]


def mark_vectors(image: Image.Image) -> np.ndarray | None:
    """The stored views of a mark: `VIEWS` unit vectors (float32, VIEWS x DIMENSIONS), or None
    for an image without a figure (blank)."""
    views = _views(figure_mask(load(image)))
    return np.stack(views).astype(np.float32) if views else None


def query_vectors(image: Image.Image) -> np.ndarray | None:
    """The query's views, each also turned by `QUERY_TURNS`: (turns x views) x DIMENSIONS."""
    from PIL import Image  # here: the web server and workers keep no image library

    mask = figure_mask(load(image))
    if not mask.any():
        return None
    vectors = []
    for turn in QUERY_TURNS:
        turned = mask
        if turn:
            picture = Image.fromarray(mask.astype(np.uint8) * 255)
            turned = np.asarray(picture.rotate(turn, Image.Resampling.BILINEAR, expand=True)) > 127
        vectors.extend(_views(turned))
    return np.stack(vectors).astype(np.float32)


# --- The baseline -------------------------------------------------------------------------

_DCT = np.array(
    [[np.cos(np.pi * (2 * n + 1) * k / 64) for n in range(32)] for k in range(32)],
    dtype=np.float64,
)


def phash(image: Image.Image) -> int:
    """The classic 64-bit perceptual hash: the low 8 x 8 frequencies of a 32 x 32 grey image's
    DCT, each above or below their median."""
    from PIL import Image  # here: the web server and workers keep no image library

    grey = load(image).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int("".join("1" if bit else "0" for bit in bits), 2)
