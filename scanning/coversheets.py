"""Cover and separator sheets: what their barcodes say, and printable PDFs of them.

A sheet carries two barcodes. The QR code holds the payload (`EDMS1|key|type|date|title` for a
cover sheet, `EDMS1|key|type|date|title|document-id` for the cover sheet or reception receipt of a
registered document, `EDMS1|NEXT` for the generic "next document" separator); a Code 128 mark at the
foot says only "this is an edms sheet". The mark lets splitting cut at a sheet whose QR code is
smudged and send that part to the unassigned queue instead of gluing it to the previous document.

The web server and every worker import this module (the payload); zxing and Pillow, which only
printing sheets needs, are imported by the printing functions.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

PREFIX = "EDMS1"
NEXT = "NEXT"
SHEET_MARK = "EDMS-SHEET"
DPI = 300
A4_PX = (2480, 3508)  # 210 x 297 mm at 300 dpi
MARGIN = 200
QR_SIDE = 780  # about 66 mm: reads well after a poor scan
FIELD_SEP = "|"

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


class BadPayload(ValueError):
    """A barcode that is not an edms sheet's, or one with malformed fields."""


@dataclass(frozen=True)
class SheetData:
    """What a sheet routes: a dossier and type (a cover sheet), or nothing (a separator)."""

    dossier: str = ""
    type_code: str = ""
    official_date: dt.date | None = None
    title: str = ""
    # The registered document the sheet belongs to (a reception receipt's), else empty.
    document: str = ""

    @property
    def is_separator(self) -> bool:
        return not self.dossier


SEPARATOR = SheetData()


def _clean(text: str) -> str:
    return " ".join(text.replace(FIELD_SEP, "/").split())


def encode(sheet: SheetData) -> str:
    if sheet.is_separator:
        return f"{PREFIX}{FIELD_SEP}{NEXT}"
    date = sheet.official_date.isoformat() if sheet.official_date else ""
    # The title is a convenience for the clerk; keep the code small enough to read when skewed.
    title = _clean(sheet.title)[:80]
    fields = [PREFIX, _clean(sheet.dossier), _clean(sheet.type_code), date, title]
    if sheet.document:
        fields.append(_clean(sheet.document))
    return FIELD_SEP.join(fields)


def decode(text: str) -> SheetData:
    fields = text.split(FIELD_SEP)
    if fields[0] != PREFIX:
        raise BadPayload(f"not an edms sheet: {text[:40]!r}")
    if fields[1:] == [NEXT]:
        return SEPARATOR
    if len(fields) not in (5, 6) or not fields[1] or not fields[2]:
        raise BadPayload(f"malformed cover sheet payload: {text[:80]!r}")
    try:
        date = dt.date.fromisoformat(fields[3]) if fields[3] else None
    except ValueError:
        raise BadPayload(f"bad date on cover sheet: {fields[3]!r}") from None
    document = fields[5] if len(fields) == 6 else ""
    return SheetData(fields[1], fields[2], date, fields[4], document)


def document_sheet(document) -> SheetData:
    """What the cover sheet (or reception receipt) of a registered `document` says: its dossier,
    type and date, and its id. No title: the payload stays small enough to read when skewed."""
    return SheetData(
        document.dossier.display_key,
        document.doc_type_id,
        document.official_date,
        "",
        str(document.id),
    )


def barcode_payload(document) -> str:
    """The text of the QR code on a registered document's cover sheet or receipt."""
    return encode(document_sheet(document))


# --- Printable sheets -------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont  # here, not at the top: kept out of processes that never print

    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def _barcode_image(text: str, fmt, module_px: int) -> Image.Image:
    import zxingcpp  # here, not at the top: kept out of processes that never print
    from PIL import Image

    matrix = memoryview(zxingcpp.create_barcode(text, fmt).to_image(scale=1, add_quiet_zones=False))
    height, width = matrix.shape
    image = Image.frombytes("L", (width, height), bytes(matrix))
    return image.resize((width * module_px, height * module_px), Image.Resampling.NEAREST)


def _qr_image(text: str) -> Image.Image:
    import zxingcpp  # here, not at the top: kept out of processes that never print

    modules = memoryview(
        zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_image(
            scale=1, add_quiet_zones=False
        )
    ).shape[0]
    return _barcode_image(text, zxingcpp.BarcodeFormat.QRCode, max(QR_SIDE // modules, 4))


def _lines(sheet: SheetData, type_label: str) -> list[tuple[str, int]]:
    if sheet.is_separator:
        return [
            ("NEXT DOCUMENT", 150),
            ("Separator sheet: the pages after it are a new document", 56),
            ("of the dossier and type of the last cover sheet.", 56),
        ]
    lines = [("COVER SHEET", 150), (sheet.dossier, 110), (f"{sheet.type_code}  {type_label}", 70)]
    if sheet.official_date:
        lines.append((f"Official date: {sheet.official_date.isoformat()}", 60))
    if sheet.title:
        lines.append((sheet.title[:70], 56))
    if sheet.document:
        lines.append((f"Document {sheet.document}", 48))
    return lines


def render_sheet(sheet: SheetData, type_label: str = "") -> Image.Image:
    """One A4 page at 300 dpi, black and white, as a scanner would want to see it."""
    import zxingcpp  # here, not at the top: kept out of processes that never print
    from PIL import Image, ImageDraw

    page = Image.new("L", A4_PX, 255)
    draw = ImageDraw.Draw(page)
    page.paste(_qr_image(encode(sheet)), (MARGIN, MARGIN))
    y = MARGIN + QR_SIDE + 160
    for text, size in _lines(sheet, type_label):
        draw.text((MARGIN, y), text, fill=0, font=_font(size))
        y += int(size * 1.5)
    draw.text(
        (MARGIN, A4_PX[1] - MARGIN - 420),
        "edms: scan this sheet in front of the document. It is removed automatically.",
        fill=0,
        font=_font(44),
    )
    mark = _barcode_image(SHEET_MARK, zxingcpp.BarcodeFormat.Code128, 6)
    mark = mark.resize((mark.width, 260), Image.Resampling.NEAREST)
    page.paste(mark, (MARGIN, A4_PX[1] - MARGIN - mark.height))
    return page.convert("1")


def cover_sheet(dossier, doc_type, official_date: dt.date | None = None, title: str = ""):
    """The sheet that routes what follows it to `dossier` (a Dossier) as a `doc_type` document."""
    sheet = SheetData(dossier.display_key, doc_type.code, official_date, title or "")
    return render_sheet(sheet, doc_type.label())


def registered_document_sheet(document) -> Image.Image:
    """The cover sheet of a registered document: its QR code is `barcode_payload(document)`."""
    return render_sheet(document_sheet(document), document.doc_type.label())


def separator_sheet() -> Image.Image:
    """The generic "next document" sheet: what follows goes where the previous part went."""
    return render_sheet(SEPARATOR)


def sheets_pdf(pages: list[Image.Image]) -> bytes:
    """A PDF of bilevel 300 dpi pages (CCITT G4 compressed: a few kB a page)."""
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return out.getvalue()
