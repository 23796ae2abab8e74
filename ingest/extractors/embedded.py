"""Apache Tika compiled to native code (`iscc-tika`): the default, needing no Java or server."""

from __future__ import annotations

from ingest import tika_metadata
from ingest.extractors.base import BaseExtractor, Extraction, ExtractionFailed


class Extractor(BaseExtractor):
    name = "tika-embedded"
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
            .set_extract_string_max_length(max_chars)
            .set_pdf_config(pdf)
            .set_office_config(office)
        )

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        engine = self._engine(max_chars)
        try:
            text, raw = engine.extract_file_to_string(path)
        except Exception as exc:  # the binding wraps every Tika error the same way
            raise ExtractionFailed(tika_metadata.failure_reason(str(exc))) from None
        metadata = tika_metadata.as_lists(raw)
        if tika_metadata.refused_as_encrypted(metadata, text):
            raise ExtractionFailed("encrypted document: a password is required")
        truncated = "X-TIKA:EXCEPTION:write_limit_reached" in metadata or len(text) >= max_chars
        return Extraction(
            text=text[:max_chars],
            media_type=tika_metadata.media_type(metadata),
            metadata=metadata,
            truncated=truncated,
        )
