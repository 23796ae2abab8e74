"""What the index holds for a document: its metadata, its latest version's extracted text, the
principals that may read it and, for a document the public reads only redacted, the text of the
latest version's redacted copy (what the public searches instead of the original's) — built
from the database, never from event payloads, so that indexing a document twice, or late, always
writes its current state.

A document's *stamp* names that state without reading its text: the document's revision, its
dossier and the dossier's revision, and the digest of the latest version's text. Any change the
index must follow changes the stamp (`reconcile` compares them).

What processing found (text, languages) is read from the version's facts (recorded by
`dossier.processing_facts`), never from `ingest`: search reads only `dossier`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dossier import blobstore, redaction
from dossier.access import document_readers
from dossier.models import Document, Dossier, RenditionKind, Version
from search.backends.base import STEMMED_LANGUAGES, IndexDocument

MAX_TEXT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """A document row with its dossier and its latest version (if any)."""

    document: Document
    version: Version | None

    @property
    def text_sha256(self) -> str:
        # Set only once the version's processing finished done.
        return (self.version.text_id or "") if self.version is not None else ""

    @property
    def stamp(self) -> str:
        document = self.document
        text = self.text_sha256[:16] or "-"
        return f"{document.revision}.{document.dossier_id}.{document.dossier.revision}.{text}"


def _indexable():
    # An expunged document (every version's content removed for good) is never searchable.
    return Document.objects.filter(expunged_at__isnull=True).select_related("dossier")


def load_sources(ids: Iterable[str]) -> list[Source]:
    """The current rows of the documents in `ids` (missing and expunged ones are left out)."""
    documents = list(_indexable().filter(id__in=list(ids)))
    return _with_latest_version(documents)


def iter_sources(*, after: str | None = None, chunk: int = 500) -> Iterator[list[Source]]:
    """Every document, in chunks ordered by id, starting after `after` (to resume)."""
    documents = _indexable().order_by("id")
    while True:
        page = documents.filter(id__gt=after) if after else documents
        rows = list(page[:chunk])
        if not rows:
            return
        yield _with_latest_version(rows)
        after = str(rows[-1].id)


def _with_latest_version(documents: list[Document]) -> list[Source]:
    wanted = {(d.id, d.latest_version) for d in documents}
    versions = {
        (v.document_id, v.number): v
        for v in Version.objects.filter(document__in=documents)
        if (v.document_id, v.number) in wanted
    }
    return [Source(d, versions.get((d.id, d.latest_version))) for d in documents]


def document_ids_of_dossier(key: str) -> list[str]:
    return [str(i) for i in Document.objects.filter(dossier__key=key).values_list("id", flat=True)]


def build(source: Source, *, max_text_chars: int) -> IndexDocument:
    document, dossier = source.document, source.document.dossier
    readers = document_readers(document)
    public_text = None
    if document.redaction_required or redaction.has_redacted_copy(document):
        # The public reads such a document only through its redacted copy (`dossier.redaction`):
        # it searches the copy's text, never the original's (the engines keep them apart).
        public_text = _redacted_text(source, max_text_chars)
    detected = list(source.version.languages) if source.version else []
    language = (document.language or (detected[0] if detected else "") or "").lower()[:8]
    return IndexDocument(
        id=str(document.id),
        stamp=source.stamp,
        version=document.latest_version,
        dossier=dossier.key,
        dossier_title=dossier.title,
        ip_type=dossier.ip_type,
        status=dossier.status.lower(),
        applicants=[str(a) for a in _names(dossier.applicants)],
        type=document.doc_type_id,
        direction=document.direction,
        official_date=document.official_date,
        language=language,
        analysis_languages=_analysis_languages(language, detected, dossier),
        title=document.title,
        state=document.state,
        text=_text(source, max_text_chars),
        meta=_meta(document, dossier),
        principals=sorted(readers.principals),
        public_from=readers.public_from,
        public_text=public_text,
    )


def _analysis_languages(language: str, detected: list[str], dossier: Dossier) -> list[str]:
    candidates = [language, *detected, dossier.language.lower()]
    chosen = []
    for code in candidates:
        code = (code or "")[:2]
        if code in STEMMED_LANGUAGES and code not in chosen:
            chosen.append(code)
    return chosen


def _names(values) -> Iterator[str]:
    # Applicants come from the registry as strings or {"name": ...} objects.
    for value in values or []:
        if isinstance(value, dict):
            name = value.get("name") or " ".join(str(v) for v in value.values() if v)
            if name:
                yield name
        elif value:
            yield str(value)


def _meta(document: Document, dossier: Dossier) -> str:
    parts = [
        dossier.title,
        dossier.key,
        dossier.display_key,
        dossier.raw_key,
        *_names(dossier.applicants),
        *_names(dossier.representatives),
        document.registry_id,
        document.doc_type_id,
    ]
    return "\n".join(p for p in parts if p)


def _text(source: Source, max_text_chars: int) -> str:
    return _read_text(source.text_sha256, max_text_chars)


def _redacted_text(source: Source, max_text_chars: int) -> str:
    """The text of the latest version's redacted copy; "" if it has none (the public then finds
    the document by its metadata only, as it is served no version without a copy)."""
    if source.version is None:
        return ""
    copy = redaction.redacted(source.version, RenditionKind.REDACTED_TEXT)
    return _read_text(copy.blob_id if copy else "", max_text_chars)


def _read_text(sha256: str, max_text_chars: int) -> str:
    # A missing blob reads as no text: fixity reports it, and the metadata stays findable.
    return blobstore.read_text_head(sha256, MAX_TEXT_BYTES)[:max_text_chars]
