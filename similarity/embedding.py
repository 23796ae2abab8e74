"""Embedding a document: its latest version's extracted text, cut into passages, each passage's
vector stored in the database and in the vector index. Idempotent: a document whose current text
was already embedded by the current model is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet

from dossier import blobstore
from dossier.models import Document, Version
from similarity import chunking, embedder, vectorstores
from similarity.models import Chunk, EmbeddedText

PASSAGE_WORDS = 120
PASSAGE_OVERLAP = 30
MAX_TEXT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    document_id: str
    chunks: int
    skipped: bool = False


def current_text(document: Document) -> tuple[str, str]:
    """(digest, text) of the document's latest version's extracted text; ("", "") if it has
    none yet, or it was expunged, or its blob is missing (fixity reports that)."""
    version = Version.objects.filter(document=document, number=document.latest_version).first()
    if version is None or not version.text_id or document.expunged_at is not None:
        return "", ""
    return version.text_id, read_text(version.text_id)


def read_text(sha256: str) -> str:
    return blobstore.read_text_head(sha256, MAX_TEXT_BYTES)


def embed_document(document_id: str) -> Outcome:
    """Bring the document's chunks in line with its current text (none when it has no text or is
    gone). Safe to run twice and concurrently: the embedded index's writer lock orders the
    writers; a search cluster's store takes each chunk by its key."""
    return embed_documents([document_id])[0]


@dataclass
class _Plan:
    document_id: str
    document: Document | None
    digest: str
    passages: list[chunking.Passage]
    vectors: np.ndarray


def embed_documents(document_ids: list[str]) -> list[Outcome]:
    """`embed_document` for many, under one hold of the index's writer lock (the backfill)."""
    outcomes: dict[str, Outcome] = {}
    plans = []
    for document_id in document_ids:
        document = Document.objects.filter(id=document_id).first()
        digest, text = current_text(document) if document is not None else ("", "")
        done = EmbeddedText.objects.filter(document_id=document_id).first()
        if done is not None and done.text_sha256 == digest and done.model == embedder.MODEL_NAME:
            outcomes[str(document_id)] = Outcome(str(document_id), done.chunk_count, skipped=True)
            continue
        if done is None and not digest:
            outcomes[str(document_id)] = Outcome(str(document_id), 0, skipped=True)
            continue
        passages = chunking.passages(
            text,
            words=PASSAGE_WORDS,
            overlap=PASSAGE_OVERLAP,
            limit=settings.EDMS_SIMILARITY_MAX_CHUNKS,
        )
        vectors = embedder.embed([p.text for p in passages])
        plans.append(_Plan(str(document_id), document, digest, passages, vectors))
    if plans:
        # The store's writes are applied after the transaction commits (the database first).
        with vectorstores.configured().writing() as index, transaction.atomic():
            for plan in plans:
                outcomes[plan.document_id] = _replace_chunks(index, plan)
    return [outcomes[str(d)] for d in document_ids]


def _replace_chunks(index, plan: _Plan) -> Outcome:
    old = list(Chunk.objects.filter(document_id=plan.document_id).values_list("id", flat=True))
    Chunk.objects.filter(id__in=old).delete()
    index.remove(old)
    if plan.document is None or not plan.digest:
        EmbeddedText.objects.filter(document_id=plan.document_id).delete()
        return Outcome(plan.document_id, 0)
    new = Chunk.objects.bulk_create(
        Chunk(
            document=plan.document,
            ordinal=p.ordinal,
            start=p.start,
            end=p.end,
            passage=p.text,
            vector=plan.vectors[i].tobytes(),
        )
        for i, p in enumerate(plan.passages)
    )
    EmbeddedText.objects.update_or_create(
        document=plan.document,
        defaults={
            "text_sha256": plan.digest,
            "model": embedder.MODEL_NAME,
            "chunk_count": len(new),
        },
    )
    index.add(plan.document, [c.id for c in new], plan.vectors)
    return Outcome(plan.document_id, len(new))


def waiting() -> QuerySet[Version]:
    """The latest versions whose text has no chunks by the current model (none, or made from an
    earlier text or by another model), of documents not expunged, oldest first."""
    current = EmbeddedText.objects.filter(
        document_id=OuterRef("document_id"),
        text_sha256=OuterRef("text_id"),
        model=embedder.MODEL_NAME,
    )
    return (
        Version.objects.filter(
            text__isnull=False,
            document__expunged_at__isnull=True,
            number=F("document__latest_version"),
        )
        .exclude(Exists(current))
        .order_by("id")
    )


def leftovers() -> QuerySet[EmbeddedText]:
    """Expunged documents that still have chunks (their task was lost): the passages hold the
    removed text, so they must go."""
    return EmbeddedText.objects.filter(document__expunged_at__isnull=False).order_by("embedded_at")


def documents_to_embed() -> Iterator:
    """Documents whose chunks do not follow their current text: what the backfill and the
    sweep hand to `embed_document`."""
    yield from waiting().values_list("document_id", flat=True).iterator(chunk_size=2000)
    yield from leftovers().values_list("document_id", flat=True).iterator(chunk_size=2000)
