"""Reading scanned pages: render (pypdfium2), find edms sheets' barcodes, judge blankness.

Only splitting's reading step imports this module (when it runs): pypdfium2, zxing and Pillow
stay out of the web server's and the workers' memory until a batch is split. What a reading
found (`Kind`, `PageReading`) is in `scanning.readings`, which needs none of them.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from scanning.coversheets import SHEET_MARK, BadPayload, decode
from scanning.readings import Kind, PageReading

# Enough for a 66 mm QR code scanned skewed; twice as fast as 300 dpi.
RENDER_DPI = 150
FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
# Judging blankness. A pixel is ink when it is clearly darker than the paper (its median grey)
# and in any case when it is darker than DARK (a page mostly dark is never blank). Margins are
# ignored (punch holes, the scanner lid's shadow).
INK_CONTRAST = 60
DARK = 110
MARGIN_SHARE = 12  # 1/12 of each side: about 17 mm of A4
# Strokes closer than this are one mark: the letters of a word, the loops of a signature.
JOIN_MM = 0.5
# The default largest speck ignored (`EDMS_SCAN_BLANK_SPECK_MM`): toner and dust are smaller;
# a letter of 8 pt type, joined to its neighbours, is larger.
SPECK_MM = 1.0


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


def _paper_level(image: Image.Image) -> int:
    """The page's median grey: its paper, on any page that is not mostly ink."""
    histogram = image.histogram()
    half, seen = image.width * image.height / 2, 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= half:
            return level
    return 255


def has_marks(image: Image.Image, *, speck_mm: float = SPECK_MM, dpi: int = RENDER_DPI) -> bool:
    """Whether the page (rendered at `dpi`) holds a mark longer than a speck of `speck_mm`.

    Counting dark pixels cannot tell a signature from dust: one short line of text has less
    ink than a speckled scan. Extent can: specks are small in every direction, while a word, a
    signature, even a lone "J." reach further in one. Strokes closer than JOIN_MM are joined
    into marks (a dilation); then every mark shorter, across and along, than the speck plus the
    joining is worn away (an erosion by a horizontal, then by a vertical line). Whatever
    survives either is content. All are box filters: some 50 ms a page at 150 dpi.
    """
    width, height = image.size
    inner = image.crop(
        (
            width // MARGIN_SHARE,
            height // MARGIN_SHARE,
            width - width // MARGIN_SHARE,
            height - height // MARGIN_SHARE,
        )
    )
    dark = max(_paper_level(inner) - INK_CONTRAST, DARK)
    ink = inner.point(lambda level: 255 if level < dark else 0)
    per_mm = dpi / 25.4
    joined = ink.filter(ImageFilter.BoxBlur(round(JOIN_MM * per_mm)))
    joined = joined.point(lambda level: 255 if level else 0)
    # A box of 2r+1 pixels wider than a joined speck (speck + 2 * JOIN_MM) wears it away.
    radius = round((speck_mm + 2 * JOIN_MM) * per_mm / 2)
    if _survives(joined, (radius, radius)):
        return True
    # A thin letter alone ("J.", "1") is narrower than a speck: it is a stroke, unjoined, longer
    # than two specks (two that touch are no longer).
    stroke = round(2 * speck_mm * per_mm / 2)
    return any(_survives(ink, line) for line in ((stroke, 0), (0, stroke)))


def _survives(mask: Image.Image, box: tuple[int, int]) -> bool:
    """Whether some pixel of `mask` is the centre of a box of (2x+1, 2y+1) pixels all set."""
    worn = mask.filter(ImageFilter.BoxBlur(box))
    return worn.point(lambda level: 255 if level == 255 else 0).getbbox() is not None


def read_page(image: Image.Image, *, blank_speck_mm: float = SPECK_MM) -> PageReading:
    """Classify one rendered page. It is blank only when it holds no mark larger than a speck
    of `blank_speck_mm` (see `has_marks`): a page with one short line is content."""
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
    if not has_marks(image, speck_mm=blank_speck_mm):
        return PageReading(Kind.BLANK)
    return PageReading(Kind.CONTENT)
