"""A dossier as a package: its files and a `manifest.json` describing them, as one ZIP.

For publication servers and exchange with WIPO services (DOMAIN.md, "What the registry system
needs from edms", item 8). The same package comes from `GET /api/v1/dossiers/{key}/export` and
from `edms export`. What goes in is what the caller may see (`access.visible_documents`), never a
scan still held for quality control; the manifest is written first (everything it says is known
from the database: content is addressed by its SHA-256) and the files follow, each streamed from
blob storage, so a package is never held in memory or on disk.

Layout (stable for the same selection, unique within the package)::

    manifest.json
    BG-P-2024-000123/2024-03-01_CLM_1a2b3c4d_v1.pdf
    BG-P-2024-000123/2024-03-01_CLM_1a2b3c4d_v1.pdfa.pdf     (with renditions=pdfa)
    annotations.json                                          (with annotations=1)

`annotations.json` holds the notes on the exported versions that the exporting user may read
(their own and shared ones): only when asked, as notes are the office's working papers.

Cancelled documents are left out; with `include_cancelled` their tombstones (type, dates, reason)
are listed in the manifest's `cancelled`, without content: a cancelled paper is no longer part
of the file wrapper, and a receiver should withdraw what it may hold of it. A file whose content
is missing from blob storage is listed under `missing` (path it would have had, SHA-256, size)
and left out of the ZIP, which is complete and valid all the same.
"""

from __future__ import annotations

import datetime as dt
import json
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from annotations import export as annotation_export
from annotations.models import Annotation
from dossier import actions, packages, zipstream
from dossier.audit import Actor
from dossier.models import Document, Dossier, Rendition, RenditionKind, Version

MANIFEST_NAME = "manifest.json"
FORMAT = "edms-dossier-export"
FORMAT_VERSION = 1
# Renditions worth sending along: the OCR PDF/A of a scan, the viewing PDF of an office file.
EXPORTABLE_RENDITIONS = (RenditionKind.PDFA, RenditionKind.PDF)
_RENDITION_SUFFIX = {RenditionKind.PDFA: "pdfa.pdf", RenditionKind.PDF: "pdf"}
_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Selection:
    """What to put in the package, besides what the caller may see."""

    all_versions: bool = False
    renditions: tuple[str, ...] = ()
    include_cancelled: bool = False
    filters: dict = field(default_factory=dict)  # as given, for the manifest
    annotations: bool = False  # the notes the user may read, as annotations.json

    def describe(self) -> dict:
        return {
            "versions": "all" if self.all_versions else "latest",
            "renditions": list(self.renditions),
            "include_cancelled": self.include_cancelled,
            "annotations": self.annotations,
            "filters": {k: _jsonable(v) for k, v in self.filters.items()},
        }


@dataclass(frozen=True)
class PackageFile:
    """One file of the package: a version's original, or one of its renditions."""

    path: str
    version: Version
    sha256: str
    size: int
    media_type: str
    rendition: str = ""


@dataclass
class Package:
    dossier: Dossier
    selection: Selection
    files: list[PackageFile]
    cancelled: list[Document]
    missing: list[PackageFile] = field(default_factory=list)  # content not in storage
    notes: list[Annotation] | None = None  # asked for: annotations.json
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def filename(self) -> str:
        """`BG-P-2024-000123.zip`: the file number, readable and safe as one path segment."""
        return f"{folder_name(self.dossier)}.zip"

    def manifest(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generator": "edms",
            "generated_at": self.generated_at.isoformat(),
            "dossier": _dossier_entry(self.dossier),
            "selection": self.selection.describe(),
            "files": [_file_entry(f) for f in self.files],
            "missing": [_file_entry(f) for f in self.missing],
            "cancelled": [_tombstone_entry(d) for d in self.cancelled],
        }

    def members(self, manifest_name: str = MANIFEST_NAME) -> Iterator[zipstream.Member]:
        """The manifest (as `manifest_name`: a batch puts it in the dossier's folder), then the
        files, whose paths are always `<folder>/…`."""
        manifest = json.dumps(self.manifest(), ensure_ascii=False, indent=2).encode()
        yield zipstream.Member.of_bytes(manifest_name, manifest, self.generated_at)
        if self.notes is not None:
            notes = annotation_export.annotations_json(self.dossier.display_key, self.notes)
            name = manifest_name.removesuffix(MANIFEST_NAME) + annotation_export.FILENAME
            yield zipstream.Member.of_bytes(name, notes, self.generated_at)
        for item in self.files:
            yield zipstream.Member(
                name=item.path, modified=item.version.created_at, sha256=item.sha256, size=item.size
            )

    def stream(self) -> Iterator[bytes]:
        """The ZIP, chunk by chunk."""
        return zipstream.stream_zip(self.members())

    def record_downloads(self, actor: Actor) -> None:
        """Audit every exported file as a download of its version, like any other download."""
        for item in self.files:
            actions.record_download(item.version, actor=actor, rendition=item.rendition or None)


def build_package(
    user,
    dossier: Dossier,
    documents: QuerySet[Document],
    selection: Selection,
    *,
    as_published: bool = False,
):
    """The package of `dossier` for `user`: `documents` narrows it (filters), access decides.
    `as_published` (a publication batch): documents the public reads only redacted go in as
    their redacted copy, or not at all, whoever builds it.

    What goes in is decided by `dossier.packages`, the rules the UI's ZIP follows too. A file
    whose content is missing from storage is listed in the manifest's `missing` instead.
    """
    chosen = packages.select_documents(user, dossier, documents)
    versions = packages.select_versions(chosen.active, all_versions=selection.all_versions)
    versions, redacted = packages.redacted_for(AnonymousUser() if as_published else user, versions)
    renditions: dict = {}
    if selection.renditions:
        wanted = Rendition.objects.filter(
            version__in=versions, kind__in=selection.renditions
        ).select_related("blob")
        for rendition in wanted:
            renditions[(rendition.version_id, rendition.kind)] = rendition

    folder = folder_name(dossier)
    files: list[PackageFile] = []
    taken: set[str] = set()
    for version in versions:
        stem = _unique_stem(folder, version.document, version, taken)
        copy = redacted.get(version.id)
        if copy is not None:  # read only redacted: the copy, nothing made from the original
            files.append(
                PackageFile(
                    path=f"{stem}.redacted.pdf",
                    version=version,
                    sha256=copy.blob_id,
                    size=copy.blob.size,
                    media_type=copy.media_type,
                    rendition=RenditionKind.REDACTED,
                )
            )
            continue
        files.append(
            PackageFile(
                path=f"{stem}.{_extension(version)}",
                version=version,
                sha256=version.blob_id,
                size=version.blob.size,
                media_type=version.media_type,
            )
        )
        for kind in selection.renditions:
            rendition = renditions.get((version.id, kind))
            if rendition is not None:
                files.append(
                    PackageFile(
                        path=f"{stem}.{_RENDITION_SUFFIX[kind]}",
                        version=version,
                        sha256=rendition.blob_id,
                        size=rendition.blob.size,
                        media_type=rendition.media_type,
                        rendition=kind,
                    )
                )
    gone = packages.missing_content(f.sha256 for f in files)
    return Package(
        dossier=dossier,
        selection=selection,
        files=[f for f in files if f.sha256 not in gone],
        missing=[f for f in files if f.sha256 in gone],
        cancelled=chosen.cancelled if selection.include_cancelled else [],
        # Never in a publication batch, whoever builds it: notes are not published.
        notes=annotation_export.annotations_of(user, versions)
        if selection.annotations and not as_published
        else None,
    )


def folder_name(dossier: Dossier) -> str:
    """The dossier's display key with dashes for slashes: `BG-P-2024-000123`."""
    return _UNSAFE.sub("-", dossier.display_key.replace("/", "-"))


def _unique_stem(folder: str, document: Document, version: Version, taken: set[str]) -> str:
    # The short document id keeps names readable; the full id settles the rare collision.
    date = document.official_date.isoformat() if document.official_date else "undated"
    type_code = _UNSAFE.sub("-", document.doc_type_id)
    stem = f"{folder}/{date}_{type_code}_{document.id.hex[:8]}_v{version.number}"
    if stem in taken:
        stem = f"{folder}/{date}_{type_code}_{document.id.hex}_v{version.number}"
    taken.add(stem)
    return stem


def _extension(version: Version) -> str:
    _, dot, ext = version.filename.rpartition(".")
    ext = ext.lower()
    if dot and re.fullmatch(r"[a-z0-9]{1,10}", ext):
        return ext
    guessed = mimetypes.guess_extension(version.media_type or "")
    return guessed.lstrip(".") if guessed else "bin"


def _dossier_entry(dossier: Dossier) -> dict:
    return {
        "id": str(dossier.id),
        "key": dossier.display_key,
        "normalized_key": dossier.key,
        "raw_key": dossier.raw_key,
        "ip_type": dossier.ip_type,
        "title": dossier.title,
        "status": dossier.status,
        "language": dossier.language,
        "filing_date": _jsonable(dossier.filing_date),
        "published_at": _jsonable(dossier.published_at),
        "registration_date": _jsonable(dossier.registration_date),
        "applicants": dossier.applicants,
        "representatives": dossier.representatives,
        "priority_claims": dossier.priority_claims,
    }


def _document_fields(document: Document) -> dict:
    return {
        "document_id": str(document.id),
        "registry_id": document.registry_id,
        "type": document.doc_type_id,
        "type_label": document.doc_type.label(),
        "direction": document.direction,
        "official_date": _jsonable(document.official_date),
        "title": document.title,
        "visibility": document.visibility,
        "state": document.state,
    }


def _file_entry(item: PackageFile) -> dict:
    version = item.version
    return {
        "path": item.path,
        **_document_fields(version.document),
        "version": version.number,
        "latest_version": version.document.latest_version,
        "rendition": item.rendition or None,
        "original_filename": version.filename,
        "media_type": item.media_type,
        "size": item.size,
        "sha256": item.sha256,
        "version_created_at": version.created_at.isoformat(),
    }


def _tombstone_entry(document: Document) -> dict:
    return {
        **_document_fields(document),
        "latest_version": document.latest_version,
        "cancel_reason": document.cancel_reason,
        "cancelled_at": _jsonable(document.cancelled_at),
    }


def _jsonable(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
