"""A raster image as a PDF, every frame a page (sandbox side): how scans that arrive as images
(multi-page TIFF faxes in CCITT G4, LZW or JPEG; PNG, JPEG, GIF, BMP, WebP, HEIC) reach OCR and
the viewer, as a PDF like every other scan.

img2pdf converts losslessly: it copies JPEG, JPEG 2000 and CCITT G4 data into the PDF as they are,
re-encodes the rest without loss (Flate; a TIFF's JPEG strips are decoded once, then kept
without further loss) and keeps an alpha channel or a palette's transparent colour as a soft
mask. It refuses more than 8 bits a sample outside PNG (a 16-bit TIFF) and does not know
HEIC: those frames are decoded by Pillow and made into what img2pdf takes (16 bits scaled to 8,
transparent pixels on white, as paper is), then embedded by img2pdf too, without further loss.
A file Pillow cannot read either fails with the catalogue's `unreadable-image`.

Images without a credible resolution (none, or the 72/96 dpi of screens and cameras) are laid
out at 300 dpi, the usual scanning resolution: Tesseract reads pixels, the resolution only sets
the page's size, and at 72 dpi a fax page would be a poster.
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

from ingest.extractors.base import ExtractionFailed
from ingest.image_formats import open_image

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_DPI = 300
MIN_CREDIBLE_DPI = 97
# The modes img2pdf embeds from a PNG that Pillow wrote: what a converted frame becomes.
EMBEDDABLE_MODES = frozenset({"1", "L", "RGB"})


def image_to_pdf(path: str, output_path: str) -> dict:
    """Write every frame of the image at `path` as a page of a PDF at `output_path`. Returns
    `{"pages", "converter"}`: `converter` is `img2pdf` (the file's data as it is) or `pillow`
    (frames decoded first: img2pdf refused them, or does not know the format). Raises
    `ExtractionFailed` (`unreadable-image`, `output-too-large`) for a file that is no image
    Pillow can read."""
    import img2pdf

    with _opened(path) as image:  # HEIC/HEIF too, which img2pdf does not know
        layout = _layout(image)
        img2pdf_knows = (image.format or "").upper() != "HEIF"
    if img2pdf_knows:
        try:
            # A rotation the EXIF data gets wrong is no reason to refuse the picture.
            converted = img2pdf.convert(path, layout_fun=layout, rotation=img2pdf.Rotation.ifvalid)
        except Exception:  # img2pdf says what it refuses with many exception types
            pass
        else:
            _write(output_path, converted)
            return {"pages": _pdf_pages(output_path), "converter": "img2pdf"}
    with _opened(path) as image:
        pngs = [_png(embeddable(frame)) for frame in _frames(image)]
    _write(output_path, img2pdf.convert(pngs, layout_fun=layout))
    return {"pages": len(pngs), "converter": "pillow"}


@contextlib.contextmanager
def _opened(path: str):
    """The image opened by Pillow; what it cannot read (or decode) fails with a reason."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(path) as image:
            yield image
    except Image.DecompressionBombError as exc:
        raise ExtractionFailed("output-too-large", f"Pillow: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ExtractionFailed("unreadable-image", f"Pillow: {exc}") from None


def _layout(image):
    """img2pdf's page layout: the file's resolution if credible, else `DEFAULT_DPI`."""
    import img2pdf

    if _credible_dpi(image):
        return img2pdf.default_layout_fun
    return img2pdf.get_fixed_dpi_layout_fun((DEFAULT_DPI, DEFAULT_DPI))


def _credible_dpi(image) -> float | None:
    """The image's own horizontal resolution, unless it is missing or not credible."""
    found = image.info.get("dpi")
    try:
        horizontal = float(found[0]) if found else 0
    except (TypeError, ValueError, IndexError):
        horizontal = 0
    return horizontal if horizontal >= MIN_CREDIBLE_DPI else None


def _frames(image):
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        yield image.copy()


def embeddable(frame: Image.Image) -> Image.Image:
    """The frame in a mode img2pdf embeds as is: bilevel, 8-bit grey or RGB, opaque."""
    from PIL import Image

    if frame.mode in EMBEDDABLE_MODES and "transparency" not in frame.info:
        return frame
    if frame.mode.startswith("I") or frame.mode == "F":
        return _eight_bit_grey(frame)
    has_alpha = frame.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in frame.info
    if not has_alpha:
        return frame.convert("L" if frame.mode in ("L", "LA") else "RGB")
    rgba = frame.convert("RGBA")
    page = Image.new("RGB", rgba.size, "white")
    page.paste(rgba, mask=rgba.getchannel("A"))
    return page


def _eight_bit_grey(frame):
    """16-bit (or 32-bit) grey as 8-bit: scaled, not clipped (Pillow's own conversion clips
    every value above 255 to white, and a 16-bit scan would be a blank page)."""
    wide = frame.convert("I") if frame.mode != "F" else frame
    _, highest = wide.getextrema()
    if highest > 255:
        wide = wide.point(lambda value: value * (255 / 65535))
    return wide.convert("L")


def _png(frame) -> bytes:
    buffer = io.BytesIO()
    dpi = frame.info.get("dpi")
    frame.save(buffer, format="PNG", **({"dpi": dpi} if dpi else {}))
    return buffer.getvalue()


def _write(path: str, content: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(content)


def _pdf_pages(path: str) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)
