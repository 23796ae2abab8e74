"""PDFs with a real text layer, made in the test: an original with a secret word and a redacted
copy without it (or one whose redactions were marked but never applied)."""

from __future__ import annotations

import io

import pikepdf


def text_pdf(*lines: str, unapplied_redaction: bool = False) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Helvetica); with a `/Redact` annotation
    over them if `unapplied_redaction` (marked, never applied: the words are still there)."""
    return paged_pdf(lines, unapplied_redaction=unapplied_redaction)


def paged_pdf(*pages: tuple[str, ...], unapplied_redaction: bool = False) -> bytes:
    """A PDF of one page per entry of `pages`, each page's text layer holding its lines (as
    `text_pdf`; the `/Redact` annotation, if asked for, on every page)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for lines in pages:
        _add_page(pdf, font, lines, unapplied_redaction)
    out = io.BytesIO()
    # Uncompressed, so a leak test may look for a word in the bytes themselves.
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def _add_page(pdf, font, lines: tuple[str, ...], unapplied_redaction: bool) -> None:
    shown = b" ".join(b"(" + line.encode("latin-1") + b") Tj 0 -16 Td" for line in lines)
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(b"BT /F1 12 Tf 72 720 Td " + shown + b" ET"),
    )
    if unapplied_redaction:
        box = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Redact, Rect=[70, 700, 300, 740]
        )
        page.Annots = pdf.make_indirect(pikepdf.Array([box]))
    pdf.pages.append(pikepdf.Page(page))
