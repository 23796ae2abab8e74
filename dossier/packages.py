"""What a package of a dossier's documents holds, whoever builds it.

The API's export (`api.export`, also `edms export`) and the UI's ZIP of selected documents
(`frontend`) apply the same rules, from here:

- what the user may see (`access.visible_documents`) of that dossier, narrowed by the caller's
  filters or selection, never widened by them;
- never a scan held for quality control;
- never the content of a cancelled document (a cancelled paper is no longer part of the file
  wrapper; the export may list its tombstone);
- never an expunged document, nor an expunged version (its content is gone for good);
- each document's latest version, or all of them;
- for a reader who reads a document only redacted (the public, `dossier.redaction`), the
  version's redacted copy instead of its original (and nothing made from the original); a version
  without one is left out;
- content missing from blob storage is reported as missing, so a package lists it instead of
  breaking off halfway through the ZIP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, QuerySet

from dossier import access, blobstore, redaction
from dossier.models import (
    QC_STATES,
    Blob,
    Document,
    DocumentState,
    Dossier,
    Rendition,
    RenditionKind,
    Version,
)


@dataclass(frozen=True)
class DocumentSelection:
    """The documents of a package, in file-wrapper order (official date, then filing)."""

    active: list[Document]  # their content goes in
    cancelled: list[Document]  # only their tombstones may


def select_documents(
    user, dossier: Dossier, documents: QuerySet[Document] | None = None
) -> DocumentSelection:
    """The documents of `dossier` a package for `user` holds; `documents` narrows them (filters,
    a selection) and is intersected with what `user` may see here, so callers pass filters,
    never permissions."""
    chosen = (
        (Document.objects.all() if documents is None else documents)
        .filter(dossier=dossier)
        .filter(id__in=access.visible_documents(user).values("id"))
        .exclude(state__in=QC_STATES)
        .filter(expunged_at__isnull=True)
        .select_related("doc_type", "dossier")
        .order_by("official_date", "created_at", "id")
    )
    active, cancelled = [], []
    for document in chosen:
        (cancelled if document.state == DocumentState.CANCELLED else active).append(document)
    return DocumentSelection(active=active, cancelled=cancelled)


def select_versions(documents: list[Document], *, all_versions: bool = False) -> list[Version]:
    """The versions of `documents` a package holds (blobs loaded, each version's document set to
    the loaded one), in the documents' order, then by number."""
    versions = Version.objects.filter(
        document__in=documents, expunged_at__isnull=True
    ).select_related("blob")
    if not all_versions:
        versions = versions.filter(number=F("document__latest_version"))
    by_document: dict = {}
    for version in versions.order_by("number"):
        by_document.setdefault(version.document_id, []).append(version)
    chosen = []
    for document in documents:
        for version in by_document.get(document.id, []):
            version.document = document  # loaded, with its dossier (for the audit)
            chosen.append(version)
    return chosen


def redacted_for(user, versions: list[Version]) -> tuple[list[Version], dict[int, Rendition]]:
    """`versions` as `user` may have them: those read only redacted come with their redacted
    copy (by version id, blob loaded), which goes into the package instead of the original;
    those read only redacted that have none are left out."""
    redacted_documents = {
        version.document_id
        for version in versions
        if redaction.reads_redacted(user, version.document)
    }
    if not redacted_documents:
        return versions, {}
    copies = {
        copy.version_id: copy
        for copy in Rendition.objects.filter(
            version__in=[v for v in versions if v.document_id in redacted_documents],
            kind=RenditionKind.REDACTED,
        ).select_related("blob")
    }
    kept = [v for v in versions if v.document_id not in redacted_documents or v.id in copies]
    return kept, copies


def missing_content(digests: Iterable[str]) -> set[str]:
    """Which of these blobs cannot be packaged: marked corrupt (fixity: never served until
    repaired), or not in storage (one existence check each)."""
    wanted = set(digests)
    corrupt = set(
        Blob.objects.filter(pk__in=wanted, corrupt_since__isnull=False).values_list(
            "sha256", flat=True
        )
    )
    return corrupt | {sha256 for sha256 in wanted - corrupt if not blobstore.exists(sha256)}
