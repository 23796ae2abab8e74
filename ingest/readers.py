"""The fallback readers (sandbox side): what reads a file the configured extractor refused.

`ingest.fallbacks` chooses them by the file's kind and runs each in a sandbox child of its own
(`read` is the operation), so a reader that crashes or hangs on a file costs only its own try.
Programs (LibreOffice, poppler's `pdftotext`) run as the child's children: they inherit its memory
cap, its empty network namespace and the process group a timeout kills.

- `pdfium`: the text layer of a PDF, read by PDFium (Chrome's PDF engine), which opens many files
  qpdf and PDFBox refuse: damaged cross-reference tables, fonts PDFBox cannot map, and a PDF
  whose embedded files alone are encrypted (its pages are not, so no password is needed).
- `pdftotext`: the same, read by poppler, a third PDF parser with its own repairs.
- `libreoffice`: an office document converted to PDF by LibreOffice (which reads old and rare
  formats Tika does not: Works, Lotus 1-2-3, Quattro Pro, StarOffice, Hangul, Visio, …), then
  that PDF's text by PDFium.
- `img2pdf`: a raster image converted losslessly to a PDF (`ingest.image_pdf`; decoded by Pillow
  first when img2pdf refuses it, e.g. a 16-bit TIFF, or a HEIC photo): proof that the
  image decodes, and its pages; the OCR stage then reads it as it reads every scan.
"""

from __future__ import annotations

import os
import subprocess

from ingest.extractors.base import ExtractionFailed
from ingest.image_pdf import image_to_pdf
from ingest.pages import join_pages
from ingest.render import office_to_pdf


def read(
    *,
    reader: str,
    path: str,
    text_path: str,
    max_chars: int,
    extension: str = "",
    program: str = "",
) -> dict:
    """Sandbox operation: read `path` with `reader`, write its text (at most `max_chars`
    characters) to `text_path`. Returns `{"reader", "chars", "truncated", "pages"}`, `reader`
    naming what did the work (`img2pdf` may say `pillow`); raises `ExtractionFailed`."""
    workdir = os.path.join(os.path.dirname(text_path), f"fallback-{reader}")
    os.makedirs(workdir, exist_ok=True)
    if reader == "pdfium":
        text, pages = _pdfium_text(path, max_chars)
    elif reader == "pdftotext":
        text, pages = _pdftotext(path, program, workdir)
    elif reader == "libreoffice":
        converted = os.path.join(workdir, "office.pdf")
        office_to_pdf(path=path, extension=extension, soffice=program, output_path=converted)
        text, pages = _pdfium_text(converted, max_chars)
    elif reader == "img2pdf":
        converted = image_to_pdf(path, os.path.join(workdir, "image.pdf"))
        reader, pages, text = converted["converter"], converted["pages"], ""
    else:
        raise ValueError(f"unknown fallback reader {reader!r}")
    with open(text_path, "w", encoding="utf-8", errors="replace") as handle:
        handle.write(text[:max_chars])
    return {
        "reader": reader,
        "chars": min(len(text), max_chars),
        "truncated": len(text) > max_chars,
        "pages": pages,
    }


def _pdfium_text(path: str, max_chars: int) -> tuple[str, int]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailed("damaged-pdf", _pdfium_message(exc)) from None
    try:
        pages, length = [], 0
        for page in pdf:
            text = page.get_textpage().get_text_range().replace("\r\n", "\n")
            pages.append(text)
            length += len(text)
            if length > max_chars:
                break  # enough: the rest would be cut off anyway
        return join_pages(pages), len(pdf)
    finally:
        pdf.close()


def _pdfium_message(exc: Exception) -> str:
    # "Failed to load document (PDFium: Data format error)." → "Data format error"
    message = str(exc)
    if "(PDFium: " in message:
        return message.split("(PDFium: ", 1)[1].rstrip(").")
    return message[:300]


def _pdftotext(path: str, program: str, workdir: str) -> tuple[str, int]:
    output = os.path.join(workdir, "pdftotext.txt")
    # The sandbox's wall-clock limit bounds this (it kills the whole process group).
    finished = subprocess.run(
        [program, "-q", "-enc", "UTF-8", path, output], capture_output=True, text=True
    )
    if finished.returncode != 0 or not os.path.exists(output):
        said = finished.stderr.strip().splitlines()
        raise ExtractionFailed(
            "damaged-pdf",
            said[-1][:300] if said else f"exit status {finished.returncode}",
        )
    with open(output, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    # pdftotext ends every page with a form feed (the last one too).
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return join_pages(pages), len(pages)
