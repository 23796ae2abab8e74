"""Apache Tika compiled to native code (`iscc-tika`): the default, needing no Java or server."""

from __future__ import annotations

import os
import tempfile

from ingest import tika_metadata
from ingest.extractors.base import BaseExtractor, Extraction, ExtractionFailed
from ingest.pages import text_of_xhtml


class Extractor(BaseExtractor):
    name = "tika-embedded"
    # Started once in the sandbox zygote, so each file's child is a copy of a warm runtime.
    warm_up = "ingest.extractors.embedded:warm_up"
    OPTIONS = {
        "include_headers_and_footers": True,
        "extract_annotation_text": True,
        # Inline images can multiply a small PDF into gigabytes of embedded objects.
        "extract_inline_images": False,
    }

    def _engine(self, max_chars: int):
        import iscc_tika

        pdf = (
            iscc_tika.PdfParserConfig()
            .set_extract_annotation_text(self.options["extract_annotation_text"])
            .set_extract_inline_images(self.options["extract_inline_images"])
        )
        office = iscc_tika.OfficeParserConfig().set_include_headers_and_footers(
            self.options["include_headers_and_footers"]
        )
        # OCR stays off here (iscc-tika's default): scanned pages go to the OCR step instead.
        return (
            iscc_tika.Extractor()
            # XHTML, whose `<div class="page">`s say where a PDF's pages begin; the markup
            # takes room too, so the text itself is cut at `max_chars` after conversion.
            .set_xml_output(True)
            .set_extract_string_max_length(_markup_room(max_chars))
            .set_pdf_config(pdf)
            .set_office_config(office)
        )

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        engine = self._engine(max_chars)
        try:
            xhtml, raw = engine.extract_file_to_string(path)
        except Exception as exc:  # the binding wraps every Tika error the same way
            raise ExtractionFailed(*tika_metadata.failure(str(exc))) from None
        metadata = tika_metadata.as_lists(raw)
        text = text_of_xhtml(xhtml)
        if tika_metadata.refused_as_encrypted(metadata, text):
            raise ExtractionFailed("encrypted-document", "the document is encrypted")
        truncated = (
            "X-TIKA:EXCEPTION:write_limit_reached" in metadata
            or len(xhtml) >= _markup_room(max_chars)
            or len(text) > max_chars
        )
        return Extraction(
            text=text[:max_chars],
            media_type=tika_metadata.media_type(metadata),
            metadata=metadata,
            truncated=truncated,
        )


def _markup_room(max_chars: int) -> int:
    """The XHTML's length limit for a text of at most `max_chars`: Tika's markup (a `<p>` per
    line of a PDF, the metadata in `<head>`) rarely doubles the text."""
    return 2 * max_chars + 64 * 1024


def warm_up() -> None:
    """Start the embedded Tika and parse a PDF of our own with it, in the sandbox zygote.

    Starting the runtime (a GraalVM isolate) and the parsers' first use cost a fresh child
    ~120 ms of CPU per file, four times the parse of a one-page PDF itself. Done once in the
    zygote, every child forked from it starts from a copy of the warm runtime: a runtime that has
    only ever read this file, never another person's, so a file still cannot see another's."""
    import iscc_tika
    import pikepdf

    from ingest.extractors import NO_PROGRAMS

    # The runtime reads the environment once, now: with no program on PATH, as in extraction.
    path = os.environ.get("PATH")
    os.environ["PATH"] = NO_PROGRAMS
    try:
        with tempfile.TemporaryDirectory() as folder:
            sample = os.path.join(folder, "warm-up.pdf")
            _sample_pdf(pikepdf).save(sample)
            iscc_tika.Extractor().set_xml_output(True).extract_file_to_string(sample)
    finally:
        if path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = path


def _sample_pdf(pikepdf):
    """A one-page PDF with a line of text in a standard font."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 100))
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 20 50 Td (edms warm-up) Tj ET")
    return pdf
