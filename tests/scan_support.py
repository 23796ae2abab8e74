"""Realistic scan batches for the digitization tests: edms's own cover sheets, printed and
scanned again (skewed, noisy, one upside down, one smudged), text pages at 300 dpi, blank pages.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from scanning.coversheets import MARGIN, QR_SIDE, SheetData, _font, render_sheet

A4 = (2480, 3508)


def scanned(
    image: Image.Image,
    *,
    skew: float = 0.0,
    upside_down: bool = False,
    quarter_turn: bool = False,
    seed: int = 0,
):
    """What a scanner makes of a printed page: grey, slightly rotated, a little dirt."""
    page = image.convert("L")
    if upside_down:
        page = page.rotate(180)
    if quarter_turn:  # fed sideways
        page = page.rotate(90, expand=True)
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
    draw = ImageDraw.Draw(page)
    rng = random.Random(seed)
    for _ in range(40):  # toner specks
        x, y = rng.randrange(A4[0]), rng.randrange(A4[1])
        draw.ellipse((x, y, x + 3, y + 3), fill=rng.randrange(60, 200))
    return page


def cover(dossier: str, type_code: str, date=None, title: str = "", **scan) -> Image.Image:
    return scanned(render_sheet(SheetData(dossier, type_code, date, title), type_code), **scan)


def separator(**scan) -> Image.Image:
    return scanned(render_sheet(SheetData()), **scan)


def smudged(image: Image.Image) -> Image.Image:
    """Coffee and a marker over the QR code's finder patterns: no reader recovers it."""
    page = image.copy()
    draw = ImageDraw.Draw(page)
    draw.ellipse((MARGIN - 40, MARGIN - 40, MARGIN + 420, MARGIN + 380), fill=30)
    right = MARGIN + QR_SIDE
    draw.rectangle((right - 360, MARGIN - 20, right + 30, MARGIN + 300), fill=0)
    return page


# Words of a patent office's letters. Varied letters matter beyond realism: Tesseract tells
# which way up a page is from them, and a page of ten repeated words scores too low to be turned.
WORDS = (
    "The applicant claims a device comprising a handle, a body and two screws; wherein the "
    "flange engages the threaded sleeve. Priority: application 2019/0457 filed in June. The "
    "examiner objects to lack of unity (Rule 44). Amended claims 1-12 enclosed, fee paid with "
    "surcharge. Opposition based on prior use of the mark in Bulgaria, Greece and Romania. "
    "Evidence: invoices, catalogues, affidavit. Oral proceedings requested; translation filed."
).split()


def text_page(label: str, *, lines: int = 30, **scan) -> Image.Image:
    """A page of typed text at 300 dpi, headed by `label` (so tests can tell pages apart)."""
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    draw.text((250, 250), label, fill=0, font=_font(90))
    body = _font(44)
    rng = random.Random(label)
    for row in range(lines):
        text = " ".join(rng.choice(WORDS) for _ in range(10))
        draw.text((250, 450 + row * 80), text, fill=0, font=body)
    return scanned(page, **scan)


def blank_page(**scan) -> Image.Image:
    return scanned(Image.new("L", A4, 255), **scan)


def one_line_page(text: str, *, size: int = 44, **scan) -> Image.Image:
    """A page holding one short line (10 pt at 300 dpi): a signature page, a covering note."""
    page = Image.new("L", A4, 255)
    ImageDraw.Draw(page).text((250, 1800), text, fill=0, font=_font(size))
    return scanned(page, **scan)


def speckled_blank_page(*, seed: int = 0, **scan) -> Image.Image:
    """A blank sheet from a dirty scanner: 400 specks of toner and dust up to 0.85 mm (10 px),
    grey to black, over the whole page — more ink than a short line of text has."""
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    rng = random.Random(f"specks-{seed}")
    for _ in range(400):
        x, y, side = rng.randrange(A4[0]), rng.randrange(A4[1]), rng.choice((2, 3, 4, 6, 8, 10))
        draw.ellipse((x, y, x + side, y + side), fill=rng.randrange(0, 200))
    return scanned(page, seed=seed, **scan)


def batch_pdf(pages: list[Image.Image]) -> bytes:
    """The pages as one PDF, JPEG-compressed greyscale at 300 dpi, as scanners write them."""
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=300, save_all=True, append_images=pages[1:])
    return out.getvalue()


def batch_tiff(pages: list[Image.Image]) -> bytes:
    """The pages as one multi-page bilevel TIFF (CCITT G4), the other usual scanner output."""
    frames = [page.convert("1") for page in pages]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="TIFF",
        compression="group4",
        dpi=(300, 300),
        save_all=True,
        append_images=frames[1:],
    )
    return out.getvalue()


def split_now(content: bytes, *, actor=None, station: str = "S1", filename: str = "s1-0001.pdf"):
    """Submit `content` as a scan batch and split it in this process, as the `scan` worker
    would; returns the batch, split (state `qc`)."""
    from dossier import blobstore
    from dossier.audit import Actor
    from scanning import splitting

    actor = actor or Actor(label="scanner")
    staged = blobstore.spool([content], filename=filename)
    batch = splitting.submit_batch(staged, actor=actor, station=station)
    return splitting.split_batch(batch.id)
