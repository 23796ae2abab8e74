"""A born-digital PDF made in the test, one line of text per page, for page-accurate hits."""

from __future__ import annotations

import io

import pikepdf


def paged_pdf(*pages: str) -> bytes:
    """A PDF of `len(pages)` pages, page N's text layer holding `pages[N-1]` (Helvetica)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for text in pages:
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        line = text.encode("latin-1")
        page.obj.Contents = pdf.make_stream(b"BT /F1 14 Tf 72 700 Td (" + line + b") Tj ET")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


# Three pages; the word "escapement" only on page 2.
THREE_PAGES = (
    "Page one: the clock case and its dial.",
    "Page two: the escapement regulates the gear train.",
    "Page three: the winding crown.",
)
