"""What edms shares with other offices through WIPO CASE, and in which form.

A document is shared when `dossier.access.shareable_documents` allows it (a published dossier,
what the public may read) *and* its type has a CASE code in the crosswalk: the office decides
which kinds of paper other offices' examiners see by mapping them (`exchange.crosswalk_seed`).
A document the public reads only redacted is shared only as the redacted copy of its latest
version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.utils import timezone

from dossier.access import shareable_documents
from dossier.models import Blob, Document, Dossier, Rendition, RenditionKind, Version
from dossier.numbering import InvalidFileNumber, normalise_key
from exchange.models import DocumentTypeCrosswalk

# A file number written without separators, as offices often send it: BGP2024000123.
_COMPACT = re.compile(r"^([A-Za-z]{2})([A-Za-z])(\d{4})(\d{1,9})$")


class NotShared(LookupError):
    """No shared dossier or document by that identifier (or it exists but is not shared)."""


def shared_dossier(application_identifier: str) -> Dossier:
    """The dossier CASE names by `applicationIdentifier` (office code + number, with or without
    separators), if it is shared: published and not secret. Raises `NotShared`."""
    identifier = (application_identifier or "").strip()
    if compact := _COMPACT.match(identifier):
        identifier = "/".join(compact.groups())
    try:
        key = normalise_key(identifier)
    except InvalidFileNumber:
        raise NotShared(application_identifier) from None
    dossier = Dossier.objects.filter(
        key=key, secret=False, published_at__lte=timezone.localdate()
    ).first()
    if dossier is None:
        raise NotShared(application_identifier)
    return dossier


def shared_documents(dossier: Dossier | None = None) -> QuerySet[Document]:
    """The shared documents (of `dossier`), newest first (CASE's `documentDate:desc`)."""
    mapped = DocumentTypeCrosswalk.objects.exclude(case_code="").values("doc_type_id")
    documents = shareable_documents().filter(doc_type_id__in=mapped, latest_version__gt=0)
    if dossier is not None:
        documents = documents.filter(dossier=dossier)
    return documents.select_related("dossier", "doc_type").order_by(
        F("official_date").desc(nulls_last=True), "-created_at"
    )


@dataclass(frozen=True)
class SharedContent:
    """The bytes CASE receives for a document: the latest version, or its redacted copy."""

    version: Version
    blob: Blob
    media_type: str
    filename: str
    rendition: str | None  # "redacted" when the copy is served, else None (the original)


def shared_contents(documents: list[Document]) -> dict:
    """{document id: SharedContent} for `documents` (three queries, whatever their number);
    a document without a servable form (awaiting its redacted copy) is left out."""
    versions = (
        Version.objects.filter(document__in=documents, number=F("document__latest_version"))
        .select_related("blob", "document")
        .order_by()
    )
    versions = {version.document_id: version for version in versions}
    redacted = {
        rendition.version_id: rendition
        for rendition in Rendition.objects.filter(
            version__in=list(versions.values()), kind=RenditionKind.REDACTED
        ).select_related("blob")
    }
    with_copies = set(
        Rendition.objects.filter(version__document__in=documents, kind=RenditionKind.REDACTED)
        .values_list("version__document_id", flat=True)
        .distinct()
    )
    contents = {}
    for document in documents:
        version = versions.get(document.id)
        if version is None or version.expunged_at is not None:
            continue
        copy = redacted.get(version.id)
        if copy is not None:
            contents[document.id] = SharedContent(
                version, copy.blob, copy.media_type, _redacted_name(version.filename), "redacted"
            )
        elif not document.redaction_required and document.id not in with_copies:
            contents[document.id] = SharedContent(
                version, version.blob, version.media_type, version.filename, None
            )
    return contents


def shared_content(document_id) -> tuple[Document, SharedContent]:
    """A shared document and the form CASE receives it in; raises `NotShared`."""
    document = shared_documents().filter(id=document_id).first()
    content = shared_contents([document]).get(document_id) if document is not None else None
    if content is None:
        raise NotShared(str(document_id))
    return document, content


def _redacted_name(filename: str) -> str:
    stem, dot, _ = filename.rpartition(".")
    return f"{stem or filename}-redacted.pdf" if dot else f"{filename}-redacted.pdf"
