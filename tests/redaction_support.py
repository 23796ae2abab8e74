"""PDFs with a real text layer, made in the test: an original with a secret word and a redacted
copy without it (or one whose redactions were marked but never applied)."""

from __future__ import annotations

import io

import pikepdf


def text_pdf(*lines: str, unapplied_redaction: bool = False) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Helvetica); with a `/Redact` annotation
    over them if `unapplied_redaction` (marked, never applied: the words are still there)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
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
    out = io.BytesIO()
    # Uncompressed, so a leak test may look for a word in the bytes themselves.
    pdf.save(out, compress_streams=False)
    return out.getvalue()
