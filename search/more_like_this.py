"""Term-based "more like this": the documents the engine finds for the distinctive words of a
text, over what the caller may read (the same principals and freshness filters as
`search.find`). The words are the text's most frequent ones, less the commonest words of the
office's languages; the engine's BM25 then weighs rare shared words above common ones.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dossier.access import user_principals
from search import freshness
from search import querylang as q
from search.backends import SearchRequest, get_backend
from search.find import today

MAX_TERMS = 30
WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)
# The commonest words (four letters and more) of en, fr, es, de: they say nothing about a topic.
STOPWORDS = frozenset(
    """
    that this with from have which were been their there these those such into than then them
    they when where what while said also more most other some only over under each being about
    after before between both through wherein thereof claim claims according comprising
    dans pour avec sont cette être leur leurs plus comme elle elles nous vous mais ainsi entre
    selon dont aussi sans sous chaque revendication
    para como entre sobre pero esta este estos estas desde hasta cada donde según cuando
    reivindicación
    eine einer eines einem einen sind wird werden nach auch oder durch über unter gemäß
    anspruch wobei dass
    """.split()
)


@dataclass
class TermNeighbour:
    id: str
    score: float
    snippets: list[str] = field(default_factory=list)


def distinctive_words(text: str, *, limit: int = MAX_TERMS) -> list[str]:
    counts = Counter(
        w for w in (m.group().lower() for m in WORD.finditer(text)) if w not in STOPWORDS
    )
    return [word for word, _ in counts.most_common(limit)]


def more_like_this(user, text: str, *, exclude: str | None, limit: int) -> list[TermNeighbour]:
    """The `limit` documents `user` may read that share the most distinctive words with `text`,
    best first (never `exclude`, the document the text is from)."""
    words = distinctive_words(text)
    if not words:
        return []
    filters: list[q.Node] = [*freshness.exclusions(user).filters()]
    if exclude:
        filters.append(q.Not(q.KeywordSet("id", frozenset({exclude}))))
    request = SearchRequest(
        query=q.Or(tuple(q.Term(w) for w in words)),
        principals=user_principals(user),
        today=today(),
        filters=tuple(filters),
        offset=0,
        limit=limit,
        facets=(),
        highlight=True,
    )
    result = freshness.drop_unreadable(user, get_backend().search(request))
    return [TermNeighbour(hit.id, hit.score, hit.snippets) for hit in result.hits]
