"""The search page: the same search as `GET /api/v1/search`, with facet and page links."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dossier.models import Direction, IpType
from frontend.labels import language_name, type_labels
from search import find
from search.backends import SearchUnavailable
from search.criteria import SearchParamsSerializer
from search.querylang import QuerySyntaxError


def _marked_terms(snippets: list[str]) -> str:
    """The words the engine highlighted, to find them again in the pdf.js text layer."""
    words = []
    for snippet in snippets:
        for word in re.findall(r"<mark>(.*?)</mark>", snippet):
            if word.lower() not in (w.lower() for w in words):
                words.append(word)
    return " ".join(words)


def _hit_link(hit: dict, query: str) -> str:
    params = {"version": hit["version"]} if hit.get("version") else {}
    pages = [p for p in hit.get("pages") or [] if p]
    if pages:
        params["page"] = pages[0]
    terms = _marked_terms(hit.get("snippets") or [])
    if terms or query:
        params["hl"] = terms or query
    url = reverse("frontend:viewer", args=[hit["document"]])
    return f"{url}?{urlencode(params)}" if params else url


def _facet_links(request, facets: dict, labels: dict[str, str]) -> list[dict]:
    """Each facet value as a link that toggles it as a filter; counts from the engine."""
    names = {
        "ip_type": _("IP type"),
        "type": _("Document type"),
        "direction": _("Direction"),
        "year": _("Year"),
        "language": _("Language"),
        "status": _("Status"),
    }
    # Values as the UI language names them; a year, a status (the registry's word) as they are.
    value_labels = {
        "ip_type": {value: _(label) for value, label in IpType.choices},
        "type": labels,
        "direction": {value: _(label) for value, label in Direction.choices},
    }
    groups = []
    for name, values in facets.items():
        chosen = set(request.GET.getlist(name))
        items = []
        for entry in values:
            value = str(entry["value"])
            params = request.GET.copy()
            params.pop("page", None)
            current = params.getlist(name)
            params.setlist(name, [v for v in current if v != value] or [])
            if value not in chosen:
                params.appendlist(name, value)
            if name == "language":
                label = language_name(value)
            else:
                label = value_labels.get(name, {}).get(value, value)
            items.append(
                {
                    "value": value,
                    "label": f"{value} — {label}" if name == "type" else label,
                    "count": entry["count"],
                    "selected": value in chosen,
                    "url": f"?{params.urlencode()}",
                }
            )
        if items:
            groups.append({"name": names.get(name, name), "items": items})
    return groups


@require_GET
def search(request):
    """The same search as `GET /api/v1/search`: the same parameters, the same function."""
    context = {
        "q": request.GET.get("q", ""),
        "dossier": request.GET.get("dossier", ""),
        # Facet filters chosen so far stay on when the query is changed.
        "kept_filters": [
            (name, request.GET.getlist(name))
            for name in SearchParamsSerializer.LIST_PARAMS
            if request.GET.getlist(name)
        ],
    }
    params = SearchParamsSerializer(data=request.GET)
    if not params.is_valid():
        context["error"] = _("Some search parameters are not valid.")
        return render(request, "frontend/search.html", context)
    searched = bool(request.GET)
    if searched:
        criteria = find.Criteria(
            **params.validated_data, **SearchParamsSerializer.list_values(request.GET)
        )
        try:
            result = find.find_documents(request.user, criteria)
        except QuerySyntaxError as exc:
            context["error"] = _("The query is not valid: %(error)s") % {"error": exc}
        except SearchUnavailable:
            context["error"] = _("Search is unavailable at the moment; try again later.")
        else:
            labels = type_labels()
            for hit in result["results"]:
                hit["link"] = _hit_link(hit, criteria.q)
                hit["type_label"] = labels.get(hit["type"], hit["type"])
            context |= {
                "result": result,
                "facets": _facet_links(request, result["facets"], labels),
                "pages": _page_links(request, result),
            }
    context["searched"] = searched
    return render(request, "frontend/search.html", context)


def _page_links(request, result: dict) -> dict:
    last = max((result["count"] - 1) // result["page_size"] + 1, 1)

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    page = result["page"]
    return {
        "number": page,
        "last": last,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }
