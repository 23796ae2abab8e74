"""The contract every search engine implements, and the values that cross it.

An engine stores `IndexDocument`s and answers `SearchRequest`s. It never decides who may read
what: each document carries its principals (from `dossier.access.document_readers`) and each
request the caller's (`dossier.access.user_principals`); the engine filters by them *inside* the
query, so counts, facets, snippets and pages only ever see readable documents.

A document the public reads only through its redacted copy (`dossier.redaction`) carries that
copy's text too (`IndexDocument.public_text`): a caller who may read it only as the public
(`reads_redacted`) is matched, counted and quoted by that text alone, never by the original's;
everyone else by the original's text as ever.

Engines keep *generations* of their index (a directory, or a versioned Elasticsearch index) and
one is *active*: a full reindex fills a new generation while searches go on against the active
one, then `activate` switches over at once.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from search.querylang import Node

PUBLIC = "public"
# The facets the API offers: index field → how the API names it.
FACETS = ("ip_type", "type", "direction", "year", "language", "status")
# Languages analysed with their own stemming; any other text is still indexed word by word.
# Chinese, Japanese and Korean characters: words written without spaces, matched as phrases.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
STEMMED_LANGUAGES = {
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "ru": "russian",
    "ar": "arabic",
}
SNIPPET_CHARS = 200


@dataclass
class IndexDocument:
    """Everything an engine stores about one document (built by `search.documents`)."""

    id: str
    stamp: str  # changes whenever anything indexed changes; compared by `reconcile`
    version: int
    dossier: str
    dossier_title: str
    ip_type: str
    status: str
    applicants: list[str]
    type: str
    direction: str
    official_date: dt.date | None
    language: str
    analysis_languages: list[str]  # subset of STEMMED_LANGUAGES for the text
    title: str
    state: str
    text: str
    meta: str  # other words to find the document by (dossier title, names, numbers)
    principals: list[str]
    public_from: dt.date | None  # from when `PUBLIC` applies; None: never public
    # What the public searches instead of `text` when it reads the document only redacted: the
    # latest version's redacted copy's text ("" if that version has none). None: the public reads
    # the original, `text`.
    public_text: str | None = None

    @property
    def year(self) -> str:
        return str(self.official_date.year) if self.official_date else ""


@dataclass(frozen=True)
class SearchRequest:
    query: Node
    principals: frozenset[str]
    today: dt.date
    filters: Sequence[Node] = ()  # Keyword / Wildcard / DateRange nodes, all must match
    sort: str = "relevance"  # or "date" (official date, newest first)
    offset: int = 0
    limit: int = 20
    facets: Sequence[str] = FACETS
    highlight: bool = True


@dataclass
class Hit:
    id: str
    score: float
    # version, dossier, title, type, official_date, direction, language, ..., and `redacted`:
    # whether the entry carries a public text (was indexed as read only redacted by the public).
    fields: dict
    snippets: list[str] = field(default_factory=list)  # HTML: escaped, with <mark> highlights
    pages: list[int | None] = field(default_factory=list)  # page of each snippet, if known


@dataclass
class SearchResult:
    count: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]


class SearchUnavailable(Exception):
    """The engine cannot answer right now (down, locked, not yet created): try again later."""


class IndexOutdated(SearchUnavailable):
    """The active index was written by an earlier edms, with other fields: it answers again once
    rebuilt (`edms search reindex`; the index writer rebuilds an embedded index by itself)."""


class SearchBackend(ABC):
    """One engine. Constructed from `EDMS_SEARCH["OPTIONS"]`; unknown options are a TypeError."""

    name: str = "abstract"

    def outdated(self) -> bool:
        """Whether the active index must be rebuilt before it can be used (`IndexOutdated`)."""
        return False

    def check_ready(self, timeout: float) -> None:
        """Raise `SearchUnavailable` unless the engine answers within about `timeout` seconds
        (the readiness probe, `/readyz`). By default: the active index can be opened and counted.
        """
        self.count()

    # --- Writing (only the indexer and `edms search` call these) ---------------------------

    @abstractmethod
    def bulk(
        self,
        upserts: Iterable[IndexDocument] = (),
        deletes: Iterable[str] = (),
        *,
        generation: str | None = None,
    ) -> None:
        """Add or replace `upserts` and remove the ids in `deletes`, made visible together."""

    def upsert(self, documents: Iterable[IndexDocument], *, generation: str | None = None):
        self.bulk(upserts=documents, generation=generation)

    def delete(self, ids: Iterable[str], *, generation: str | None = None):
        self.bulk(deletes=ids, generation=generation)

    @abstractmethod
    def create_generation(self) -> str:
        """Create a new, empty generation of the index and return its name."""

    @abstractmethod
    def activate(self, generation: str) -> None:
        """Make `generation` the one searched and written from now on; drop older ones."""

    def reset(self) -> str:
        """Start over with an empty active index (tests, `edms search reset`)."""
        generation = self.create_generation()
        self.activate(generation)
        return generation

    # --- Reading ----------------------------------------------------------------------------

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchResult:
        """Hits, total count and facet counts over the documents the principals may read."""

    @abstractmethod
    def stamps(self, *, generation: str | None = None) -> Iterator[tuple[str, str]]:
        """(document id, stamp) of every indexed document (for `reconcile`)."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the active generation holds."""

    @abstractmethod
    def status(self) -> dict:
        """Engine facts for the status endpoint: generation, size, reachable."""

    def active_generation(self) -> str | None:
        return self.status().get("generation")


def principal_filter_parts(principals: frozenset[str]) -> tuple[list[str], bool]:
    """(principals that grant reading outright, whether `PUBLIC` applies by date).

    A document is readable when it shares one of the first with the caller, or, for a caller
    holding `PUBLIC`, when it carries `PUBLIC` and its `public_from` date has come.
    """
    return sorted(principals - {PUBLIC}), PUBLIC in principals


def reads_redacted(
    document_principals: Iterable[str], redacted: bool, caller: frozenset[str]
) -> bool:
    """Whether the caller reads a document only as the public, through its redacted copy: the
    document is `redacted` (has a `public_text`) and no other principal of the caller's reads it.
    Engines pick a hit's snippet by this; the query itself says the same in the engine's terms."""
    outright, _ = principal_filter_parts(caller)
    return redacted and not set(outright) & set(document_principals)
