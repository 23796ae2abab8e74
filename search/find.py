"""Searching on behalf of a user: parse the query, add the filters, ask the engine with the
user's principals, shape the answer. The API and the UI both call `find_documents`.

The index may lag behind the database; `search.freshness` keeps what the caller may no longer
read out of the engine query and checks each page of hits against the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from dossier.access import user_principals
from dossier.numbering import InvalidFileNumber, normalise_key, parse_file_number
from search import freshness
from search import querylang as q
from search.backends import FACETS, SearchRequest, get_backend

MAX_PAGE_SIZE = 100
# Deep pages cost the engine offset + limit hits; nobody reads page 500 of a result list.
MAX_OFFSET = 10_000


def today() -> dt.date:
    """The day public visibility is judged on (documents carry their publication date)."""
    return timezone.localdate()


@dataclass
class Criteria:
    """What the caller asked for, validated (parameters: `api.views.search.SearchView`)."""

    q: str = ""
    dossier: str = ""
    types: list[str] = field(default_factory=list)
    directions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    ip_types: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20


def _any_of(field_name: str, values: list[str]) -> list[q.Node]:
    values = [v for v in values if v]
    if not values:
        return []
    options = tuple(q.Keyword(field_name, v) for v in values)
    return [options[0] if len(options) == 1 else q.Or(options)]


def filters_of(criteria: Criteria) -> list[q.Node]:
    """The structured filters as query nodes (ANDed with the query, not scored)."""
    nodes: list[q.Node] = []
    if criteria.dossier:
        try:
            nodes.append(q.Keyword("dossier", normalise_key(criteria.dossier)))
        except InvalidFileNumber as exc:
            raise q.QuerySyntaxError(f"dossier: {exc}") from None
    nodes += _any_of("type", [t.upper() for t in criteria.types])
    nodes += _any_of("direction", [d.lower() for d in criteria.directions])
    nodes += _any_of("language", [x.lower() for x in criteria.languages])
    nodes += _any_of("ip_type", [x.lower() for x in criteria.ip_types])
    nodes += _any_of("status", [x.lower() for x in criteria.statuses])
    nodes += _any_of("year", criteria.years)
    if criteria.date_from or criteria.date_to:
        nodes.append(q.DateRange("official_date", criteria.date_from, criteria.date_to))
    return nodes


def find_documents(user, criteria: Criteria) -> dict:
    """Hits, total and facets over what `user` may read; raises `QuerySyntaxError`."""
    query = q.parse(criteria.q)
    page_size = min(max(criteria.page_size, 1), MAX_PAGE_SIZE)
    offset = (max(criteria.page, 1) - 1) * page_size
    if offset > MAX_OFFSET:
        raise q.QuerySyntaxError(f"pages beyond {MAX_OFFSET} hits are not served; refine")
    request = SearchRequest(
        query=query,
        principals=user_principals(user),
        today=today(),
        filters=(*filters_of(criteria), *freshness.exclusions(user).filters()),
        sort=criteria.sort,
        offset=offset,
        limit=page_size,
        facets=FACETS,
    )
    result = freshness.drop_unreadable(user, get_backend().search(request))
    return {
        "count": result.count,
        "page": max(criteria.page, 1),
        "page_size": page_size,
        "results": [_result(hit) for hit in result.hits],
        "facets": {
            name: [{"value": value, "count": count} for value, count in result.facets[name]]
            for name in FACETS
        },
    }


def matching_documents(user, criteria: Criteria, document_ids: Iterable[str]) -> set[str]:
    """Which of `document_ids` the search `criteria` finds for `user`: the same query, filters
    and readers as `find_documents`, restricted to those ids (a saved search checked against
    newly indexed documents, `watch.saved_searches`). Raises `QuerySyntaxError`."""
    ids = frozenset(str(i) for i in document_ids)
    if not ids:
        return set()
    request = SearchRequest(
        query=q.parse(criteria.q),
        principals=user_principals(user),
        today=today(),
        filters=(
            *filters_of(criteria),
            q.KeywordSet("id", ids),
            *freshness.exclusions(user).filters(),
        ),
        offset=0,
        limit=len(ids),
        facets=(),
        highlight=False,
    )
    result = freshness.drop_unreadable(user, get_backend().search(request))
    return {hit.id for hit in result.hits}


def _display_key(key: str) -> str:
    try:
        return parse_file_number(key).display
    except InvalidFileNumber:
        return key


def _result(hit) -> dict:
    fields = hit.fields
    official = fields.get("official_date")
    return {
        "document": hit.id,
        "version": fields.get("version"),
        "dossier": _display_key(fields.get("dossier") or ""),
        "dossier_title": fields.get("dossier_title") or "",
        "title": fields.get("title") or "",
        "type": fields.get("type"),
        "direction": fields.get("direction"),
        "official_date": official.isoformat() if official else None,
        "language": fields.get("language") or "",
        "state": fields.get("state"),
        "score": round(hit.score, 4),
        "snippets": hit.snippets,
        "pages": hit.pages,
    }
