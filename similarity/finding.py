"""Similar documents on behalf of a user: the text to compare (a document's, as the caller may
read it, or a pasted one), its dense neighbours among what the caller may read, merged with the
term-based neighbours the caller's search engine found (`search.more_like_this`, handed in by the
API, which may use both apps).
"""

from __future__ import annotations

import uuid

from dossier import redaction
from dossier.access import user_principals, visible_documents
from dossier.models import Document, RenditionKind, Version
from dossier.roles import Role, role_of
from similarity import chunking, dense, embedder, embedding, hybrid

MAX_QUERY_CHARS = 200_000


def readable_text(user, document: Document) -> str:
    """The text of `document` as `user` reads it: the redacted copy's for the public where the
    public reads the document only redacted ("" until it has one), the original's otherwise."""
    if _reads_redacted(user, document):
        version = Version.objects.filter(document=document, number=document.latest_version).first()
        copy = redaction.redacted(version, RenditionKind.REDACTED_TEXT) if version else None
        return embedding.read_text(copy.blob_id) if copy else ""
    return embedding.current_text(document)[1]


def _reads_redacted(user, document: Document) -> bool:
    return role_of(user) == Role.PUBLIC and document.redaction_required


def allowed_for(user):
    """Which of a set of document ids `user` may be shown as dense matches: the documents they
    may read (`visible_documents`) whose original text they read. The chunks hold the original's
    text, so a document the public reads only redacted is never a dense match for the public
    (the engine still finds it by its redacted text)."""

    def allowed(ids: set[uuid.UUID]) -> set[uuid.UUID]:
        documents = visible_documents(user).filter(id__in=list(ids), expunged_at__isnull=True)
        if role_of(user) == Role.PUBLIC:
            documents = documents.filter(redaction_required=False)
        return set(documents.values_list("id", flat=True))

    return allowed


def similar(
    user,
    text: str,
    *,
    terms: list[hybrid.TermMatch],
    exclude: uuid.UUID | None,
    limit: int,
) -> list[dict]:
    """The `limit` documents most like `text` that `user` may read, best first, with their score
    and the reason (the matched passage, the engine's highlighted snippets)."""
    passages = chunking.passages(
        text[:MAX_QUERY_CHARS],
        words=embedding.PASSAGE_WORDS,
        overlap=embedding.PASSAGE_OVERLAP,
        limit=dense.MAX_QUERY_PASSAGES,
    )
    texts = [p.text for p in passages]
    near = dense.nearest(
        embedder.embed(texts),
        texts,
        allowed=allowed_for(user),
        exclude=exclude,
        limit=limit,
        principals=user_principals(user),
    )
    merged = hybrid.fuse(terms, near, limit=limit)
    # Shown only what `user` may read, checked once more against the database: the engine's
    # index may lag behind a change of readers (`search.freshness` covers that side too).
    rows = {
        d.id: d
        for d in visible_documents(user)
        .filter(id__in=[m.document_id for m in merged])
        .select_related("dossier", "doc_type")
    }
    return [_shape(m, rows[m.document_id]) for m in merged if m.document_id in rows]


def _shape(match: hybrid.SimilarDocument, document: Document) -> dict:
    return {
        "document": str(document.id),
        "dossier": document.dossier.key,
        "title": document.title,
        "type": document.doc_type_id,
        "official_date": document.official_date.isoformat() if document.official_date else None,
        "score": match.score,
        "term_score": match.term_score,
        "dense_score": match.dense_score,
        "reason": {
            "passage": match.passage,
            "query_passage": match.query_passage,
            "snippets": match.snippets,
        },
    }
