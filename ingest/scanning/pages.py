"""Reading scanned pages: render (pypdfium2), find edms sheets' barcodes, judge blankness."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageOps

from ingest.scanning.coversheets import SHEET_MARK, BadPayload, SheetData, decode

# Enough for a 66 mm QR code scanned skewed; twice as fast as 300 dpi.
RENDER_DPI = 150
FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
# A page is blank when fewer than this share of its pixels (margins ignored) are dark.
BLANK_INK_RATIO = 0.002
DARK = 110


class Kind(enum.Enum):
    CONTENT = "content"
    BLANK = "blank"
    SHEET = "sheet"  # a cover sheet or separator whose QR code was read
    UNREADABLE_SHEET = "unreadable_sheet"  # the sheet mark was read, its QR code not


@dataclass(frozen=True)
class PageReading:
    kind: Kind
    sheet: SheetData | None = None
    problem: str = ""


def render(document: pdfium.PdfDocument, index: int, dpi: int = RENDER_DPI) -> Image.Image:
    page = document[index]
    try:
        return page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def _barcodes(image: Image.Image) -> list:
    # zxing searches all four orientations itself (try_rotate); a page upside down or on its
    # side reads like an upright one.
    found = zxingcpp.read_barcodes(image, formats=FORMATS, try_rotate=True, try_downscale=True)
    if not found:
        # A dirty or faint scan: a stronger contrast sometimes recovers the code.
        found = zxingcpp.read_barcodes(ImageOps.autocontrast(image, cutoff=2), formats=FORMATS)
    return found


def ink_ratio(image: Image.Image) -> float:
    small = image.reduce(4)
    width, height = small.size
    inner = small.crop((width // 12, height // 12, width - width // 12, height - height // 12))
    histogram = inner.histogram()
    return sum(histogram[:DARK]) / max(inner.width * inner.height, 1)


def read_page(image: Image.Image) -> PageReading:
    """Classify one rendered page."""
    marked = False
    problem = ""
    for barcode in _barcodes(image):
        if barcode.format == zxingcpp.BarcodeFormat.Code128:
            marked = marked or barcode.text == SHEET_MARK
            continue
        try:
            return PageReading(Kind.SHEET, decode(barcode.text))
        except BadPayload as exc:
            problem = str(exc)
    if marked:
        return PageReading(Kind.UNREADABLE_SHEET, problem=problem or "QR code unreadable")
    if ink_ratio(image) < BLANK_INK_RATIO:
        return PageReading(Kind.BLANK)
    return PageReading(Kind.CONTENT)
