"""Full-text search over what the caller may read, and the search index's status."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.permissions import require
from api.problems import Problem
from api.schema import problems
from dossier import access
from search import find, indexer
from search.backends import SearchUnavailable, get_backend
from search.querylang import QuerySyntaxError


class SearchView(APIView):
    """Full-text search over every document the caller may read."""

    @extend_schema(
        summary="Search documents: text, metadata, facets, highlighted snippets",
        description=(
            '`q` takes words, "exact phrases", AND / OR / NOT (and -word), prefix*, fuzzy~ '
            "and fields: type:CLM dossier:BG/P/2024/* applicant:acme direction:in lang:fr "
            "ip:patent status:granted title:word date:2020-01-01..2021-06-30. A malformed "
            "query is answered with the problem `invalid-query`."
        ),
        parameters=[
            OpenApiParameter("q", str, description="The query (see above)."),
            OpenApiParameter("dossier", str, description="Only this dossier (file number)."),
            OpenApiParameter("type", str, description="Document type code(s), comma-separated."),
            OpenApiParameter("direction", str, description="in, out, internal (comma-separated)."),
            OpenApiParameter("lang", str, description="Language code(s)."),
            OpenApiParameter("ip_type", str, description="IP type(s) of the dossier."),
            OpenApiParameter("status", str, description="Dossier status(es)."),
            OpenApiParameter("year", str, description="Year(s) of the official date."),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter("sort", str, enum=["relevance", "date"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="1 to 100 (default 20)."),
        ],
        responses={200: s.SearchResultSerializer, **problems(400, 503)},
    )
    def get(self, request):
        params = s.SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        criteria = find.Criteria(
            **params.validated_data, **s.SearchParamsSerializer.list_values(request.query_params)
        )
        try:
            return Response(find.find_documents(request.user, criteria))
        except QuerySyntaxError as exc:
            raise Problem("invalid-query", str(exc), field="q") from None
        except SearchUnavailable as exc:
            raise Problem("search-unavailable", str(exc)) from None


class SearchStatusView(APIView):
    @extend_schema(
        summary="Search index status: lag behind the outbox, engine facts",
        responses={200: s.SearchStatusSerializer},
    )
    def get(self, request):
        require(access.can_see_operations(request.user), "see the search status", request.user)
        try:
            engine = get_backend().status()
        except SearchUnavailable as exc:
            engine = {"available": False, "detail": str(exc)}
        return Response({"lag": indexer.lag(), "engine": engine})
