"""Dense similarity: the documents whose passages lie nearest to the query's passages in the
embedding space, each with the pair of passages that matched best (the reason shown).

Permissions are part of the search, not a filter on its result: `allowed` (built from
`dossier.access.visible_documents`) decides for every candidate, and the search widens until it
has `limit` readable documents or has looked at every chunk, so a caller who may read few
documents still gets the nearest of those, and one who may not read a document never sees it.
A store that indexes readers (`similarity.vectorstores.opensearch`) also filters by the caller's
`principals` inside its graph search; `allowed` still decides, as the database says now.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from similarity import vectorstores
from similarity.models import Chunk

# Candidates fetched per query passage at first, as a multiple of the documents wanted (several
# chunks of one document crowd the nearest neighbours).
FIRST_FETCH_FACTOR = 8
MAX_QUERY_PASSAGES = 24
# Below this cosine similarity two passages have nothing particular in common (for this model,
# unrelated patent passages score 0.0-0.4, paraphrases 0.7 and more): a document whose best pair
# stays below is no dense match at all, rather than the least bad one.
MIN_SIMILARITY = 0.5


@dataclass
class DenseMatch:
    document_id: uuid.UUID
    score: float  # cosine similarity of the best passage pair, -1..1
    passage: str  # the candidate's passage of that pair
    query_passage: str


def nearest(
    query_vectors: np.ndarray,
    query_passages: list[str],
    *,
    allowed: Callable[[set[uuid.UUID]], set[uuid.UUID]],
    exclude: uuid.UUID | None,
    limit: int,
    principals: frozenset[str] | None = None,
) -> list[DenseMatch]:
    """The `limit` readable documents nearest to the query, best first. `principals`: the
    caller's (`dossier.access.user_principals`), for a store that filters inside the search."""
    if len(query_vectors) == 0:
        return []
    if len(query_vectors) > MAX_QUERY_PASSAGES:  # evenly over a long query document
        picks = np.linspace(0, len(query_vectors) - 1, MAX_QUERY_PASSAGES).astype(int)
        query_vectors = query_vectors[picks]
        query_passages = [query_passages[i] for i in picks]
    store = vectorstores.configured()
    total = store.count()
    if total == 0:
        return []
    count = min(total, max(limit * FIRST_FETCH_FACTOR, 32))
    today = dt.date.today()
    while True:
        keys, similarities = store.search(query_vectors, count, principals=principals, today=today)
        best, farther = _best_per_document(keys, similarities, exclude)
        readable = allowed(set(best)) if best else set()
        ranked = sorted((best[d] for d in readable), key=lambda m: m[0], reverse=True)[:limit]
        # Widen while too few readable documents were found and the farthest chunks fetched
        # were still near enough: beyond them nothing is (the graph returns nearest first).
        if len(ranked) >= limit or count >= total or not farther:
            break
        count = min(total, count * 4)
    passages = dict(
        Chunk.objects.filter(id__in=[key for _, key, _, _ in ranked]).values_list("id", "passage")
    )
    return [
        DenseMatch(
            document_id=document_id,
            score=round(float(score), 4),
            passage=passages.get(key, ""),
            query_passage=query_passages[q],
        )
        for score, key, q, document_id in ranked
    ]


def _best_per_document(keys: np.ndarray, similarities: np.ndarray, exclude):
    """({document: (similarity, chunk key, query passage, document)}, whether the farthest chunk
    fetched for some query passage was still near enough to look farther)."""
    farther = bool(similarities.size) and float(similarities[:, -1].max()) >= MIN_SIMILARITY
    # Each chunk's best similarity to any query passage, and which passage that was.
    hits: dict[int, tuple[float, int]] = {}
    for q in range(keys.shape[0]):
        for key, similarity in zip(keys[q], similarities[q], strict=True):
            similarity = float(similarity)
            if similarity < MIN_SIMILARITY:
                continue
            key = int(key)
            if key not in hits or hits[key][0] < similarity:
                hits[key] = (similarity, q)
    # Keys the database no longer has (a writer's file not yet saved) drop out here.
    owners = Chunk.objects.filter(id__in=list(hits)).values_list("id", "document_id")
    best: dict[uuid.UUID, tuple[float, int, int, uuid.UUID]] = {}
    for key, document_id in owners.iterator(chunk_size=2000):
        if document_id == exclude:
            continue
        similarity, q = hits[key]
        if document_id not in best or best[document_id][0] < similarity:
            best[document_id] = (similarity, key, q, document_id)
    return best, farther
