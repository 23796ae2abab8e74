"""A saved search's parameters: what is kept of the search page's query string, and the search
criteria read back from it with the search's own parameter rules."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import QueryDict

from search import find
from search.criteria import SearchParamsSerializer

# What a saved search keeps: the query and its filters. Page, page size and sort say how the
# results were being read, not what was asked.
KEPT = ("q", "dossier", "date_from", "date_to", *SearchParamsSerializer.LIST_PARAMS)


def saved_params(params: QueryDict | str) -> str:
    """The query string to keep: the `KEPT` parameters with a value, in a stable order."""
    if isinstance(params, str):
        params = QueryDict(params)
    pairs = [(name, value) for name in KEPT for value in params.getlist(name) if value.strip()]
    return urlencode(pairs)


def criteria_of(params: str) -> find.Criteria:
    """The search criteria of a saved search's parameters; `ValueError` if they are invalid."""
    query = QueryDict(params)
    serializer = SearchParamsSerializer(data=query)
    if not serializer.is_valid():
        names = ", ".join(sorted(serializer.errors))
        raise ValueError(f"invalid parameters: {names}")
    data = dict(serializer.validated_data)
    data["page"], data["page_size"] = 1, find.MAX_PAGE_SIZE
    return find.Criteria(**data, **SearchParamsSerializer.list_values(query))


def describe(params: str) -> dict[str, str | list[str]]:
    """The parameters by name, to show what a saved search asks for."""
    query = QueryDict(params)
    return {name: query.getlist(name) for name in KEPT if query.getlist(name)}
