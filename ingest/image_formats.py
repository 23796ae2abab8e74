"""Raster images as the sandbox opens them: Pillow, with HEIC/HEIF (what phone cameras save by
default) read through pillow-heif's opener.

The opener is registered on first use, in the sandbox child that opens an image, so processes
that never read one (the worker, Tika's children) do not load libheif.
"""

from __future__ import annotations

import functools

HEIF_IMAGE_TYPES = frozenset(
    {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
)
# Raster images a browser does not show (PNG, JPEG, GIF, WebP and BMP it does): the viewer shows
# them through a PDF of their pages, OCR's PDF/A or, without OCR, the image's own PDF.
SHOWN_AS_PDF_IMAGE_TYPES = frozenset({"image/tiff", "image/jp2", *HEIF_IMAGE_TYPES})


def open_image(path: str):
    """`PIL.Image.open(path)`, HEIC/HEIF included; raises what Pillow raises (notably
    `UnidentifiedImageError`, `OSError`) for a file it cannot read."""
    from PIL import Image

    _register_heif()
    return Image.open(path)


@functools.cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
