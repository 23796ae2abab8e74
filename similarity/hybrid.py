"""Merging the term-based neighbours (the search engine's more-like-this) with the dense ones.

Reciprocal rank fusion: each list votes 1 / (K + rank) for the documents it found. Ranks, not raw
scores, are merged, because BM25 scores and cosine similarities live on unrelated scales; a
document both lists found beats one that only one list ranks slightly higher.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from similarity.dense import DenseMatch

K = 60


@dataclass
class TermMatch:
    document_id: uuid.UUID
    score: float  # the engine's relevance score
    snippets: list[str] = field(default_factory=list)  # HTML, <mark>ed shared words


@dataclass
class SimilarDocument:
    document_id: uuid.UUID
    score: float  # 0..1: 1 for a document ranked first by both lists
    term_score: float | None
    dense_score: float | None
    passage: str  # the matched document's passage most like the query
    query_passage: str  # the query's passage it matched
    snippets: list[str]


def fuse(terms: list[TermMatch], dense: list[DenseMatch], *, limit: int) -> list[SimilarDocument]:
    """The `limit` best documents of both lists, best first."""
    votes: dict[uuid.UUID, float] = {}
    for ranked in (terms, dense):
        for rank, match in enumerate(ranked):
            votes[match.document_id] = votes.get(match.document_id, 0.0) + 1.0 / (K + rank + 1)
    by_term = {m.document_id: m for m in terms}
    by_dense = {m.document_id: m for m in dense}
    best = 2.0 / (K + 1)
    order = sorted(votes, key=lambda d: votes[d], reverse=True)[:limit]
    out = []
    for document_id in order:
        term, near = by_term.get(document_id), by_dense.get(document_id)
        out.append(
            SimilarDocument(
                document_id=document_id,
                score=round(votes[document_id] / best, 4),
                term_score=round(term.score, 4) if term else None,
                dense_score=near.score if near else None,
                passage=near.passage if near else "",
                query_passage=near.query_passage if near else "",
                snippets=term.snippets if term else [],
            )
        )
    return out
