"""The answers of the CASE Dossier Information Service in WIPO's published field names (V.05,
ST.96-based JSON; see EXCHANGE.md, "WIPO CASE"). Every name CASE sees is written here and only
here, so a revision of the specification is one edit; a test checks each against EXCHANGE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dossier.models import Direction, Document, Dossier, IpType
from dossier.numbering import parse_file_number
from exchange.case.sharing import SharedContent
from exchange.models import Citation, CitationKind, DocumentTypeCrosswalk

SOURCE_SYSTEM = "edms"
SORTING = "documentDate:desc"

# CASE's `documentKindCategory` in the vocabulary WIPO's exchange services use for IP kinds.
_KIND_OF_RIGHT = {
    IpType.PATENT: "patent",
    IpType.SPC: "patent",
    IpType.UTILITY_MODEL: "utility model",
    IpType.DESIGN: "industrial design",
    IpType.TRADEMARK: "trademark",
}
_FORMATS = {
    "application/pdf": "pdf",
    "image/tiff": "tiff",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "text/plain": "txt",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


def application_number(dossier: Dossier) -> dict:
    """ST.96 application number: the office code and the number without it."""
    number = parse_file_number(dossier.key)
    return {
        "ipOfficeCode": number.office,
        "applicationNumberText": dossier.key.split("/", 1)[1],
    }


def doclist(
    dossier: Dossier,
    documents: Iterable[Document],
    contents: dict,
    crosswalk: dict[str, DocumentTypeCrosswalk],
    location: Callable[[Document], str],
) -> dict:
    """The `doclists` answer: the shared `documents` (already filtered and ordered) that have a
    servable form in `contents`, with where to fetch each (`location`)."""
    included = [
        {"documentIncluded": _document(doc, contents[doc.id], crosswalk[doc.doc_type_id], location)}
        for doc in documents
        if doc.id in contents
    ]
    return {
        "applicationNumber": application_number(dossier),
        "documentTotalQuantity": len(included),
        "sorting": SORTING,
        "documentIncludedBag": included,
    }


def _document(
    document: Document,
    content: SharedContent,
    crosswalk: DocumentTypeCrosswalk,
    location: Callable[[Document], str],
) -> dict:
    date = document.official_date or document.created_at.date()
    media_type = content.media_type.split(";", 1)[0].strip().lower()
    return {
        "id": str(document.id),
        "languageCode": document.language or document.dossier.language or None,
        "sourceSystemIdentifier": SOURCE_SYSTEM,
        "documentName": document.doc_type.label("en"),
        "documentDescription": document.title or document.doc_type.label("en"),
        "documentFormatCategory": _FORMATS.get(media_type, media_type.rpartition("/")[2]),
        "documentKindCategory": _KIND_OF_RIGHT.get(document.dossier.ip_type, "patent"),
        "documentCodeCategory": crosswalk.case_code,
        "documentDate": date.isoformat(),
        "documentLocationURI": location(document),
        "documentSizeQuantity": content.blob.size,
        "documentPageQuantity": content.version.page_count or document.page_count,
        "documentNumber": document.registry_id or str(document.id),
        "documentLanguageSource": "translation" if crosswalk.translation else "original",
        # Internal papers an office chooses to publish (search notes) are the office's own.
        "documentOrigin": "incoming" if document.direction == Direction.IN else "outgoing",
        "documentGroupCategory": [crosswalk.case_group] if crosswalk.case_group else [],
        "documentStatusCategory": "filed",
        "nplIndicator": False,
    }


def citations(dossier: Dossier, rows: Iterable[Citation]) -> dict:
    """The `applications/citations` answer: the dossier's search-report citations."""
    return {
        "applicationNumber": application_number(dossier),
        "referenceCitationBag": [citation(row) for row in rows],
    }


def citation(row: Citation) -> dict:
    """One ST.96 reference citation (also the shape the edms API reads and writes)."""
    shape: dict = {}
    if row.kind == CitationKind.PATENT:
        shape["patentCitation"] = {
            "citedPatentDocumentIdentification": {
                "ipOfficeCode": row.office_code,
                "documentNumber": row.document_number,
                "patentDocumentKindCode": row.kind_code or None,
                "patentDocumentDate": row.document_date.isoformat() if row.document_date else None,
            }
        }
    else:
        shape["nplCitation"] = {"nplCitationText": row.npl_text}
    shape["citationCategoryCodes"] = list(row.categories)
    shape["patentClaimRange"] = row.claims or None
    shape["citedPassageBag"] = list(row.passages)
    return shape
