"""The document-type crosswalk, read: another office's code for an edms document type, and the
types left unmapped. Written in the admin (`exchange.admin`), seeded from `crosswalk_seed`."""

from __future__ import annotations

from enum import StrEnum

from dossier.models import DocumentType
from exchange.models import DocumentTypeCrosswalk


class Scheme(StrEnum):
    CASE = "case"  # WIPO CASE documentCodeCategory
    USPTO = "uspto"  # USPTO document code (file wrapper, Open Data Portal)
    EPO = "epo"

    @property
    def field(self) -> str:
        return f"{self.value}_code"


def code_for(document_type: DocumentType | str, scheme: Scheme | str) -> str | None:
    """The code `scheme` uses for `document_type` (a type or its edms code); None when the type is
    not mapped for that scheme. Raises ValueError for an unknown scheme."""
    field = Scheme(scheme).field
    type_code = document_type if isinstance(document_type, str) else document_type.code
    code = (
        DocumentTypeCrosswalk.objects.filter(doc_type_id=type_code)
        .values_list(field, flat=True)
        .first()
    )
    return code or None


def unmapped_types(scheme: Scheme | str) -> list[DocumentType]:
    """Active document types with no code for `scheme` (no crosswalk row, or a blank code)."""
    field = Scheme(scheme).field
    mapped = DocumentTypeCrosswalk.objects.exclude(**{field: ""}).values("doc_type_id")
    return list(DocumentType.objects.filter(active=True).exclude(code__in=mapped))
