"""Similar documents: to a document, or to a pasted text (a claim), over what the caller may
read; a hybrid of the search engine's term-based more-like-this and dense embeddings."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import ReadPublicWriteByRole
from api.problems import Problem
from api.schema import problems
from dossier import access
from search.backends import SearchUnavailable
from search.more_like_this import more_like_this
from similarity import finding
from similarity.hybrid import TermMatch

MAX_TEXT_CHARS = 100_000


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SimilarTextSerializer(LimitSerializer):
    text = serializers.CharField(max_length=MAX_TEXT_CHARS, trim_whitespace=True)


SimilarResultSerializer = inline_serializer(
    "SimilarDocuments",
    {
        "results": inline_serializer(
            "SimilarDocument",
            {
                "document": serializers.UUIDField(),
                "dossier": serializers.CharField(),
                "title": serializers.CharField(),
                "type": serializers.CharField(),
                "official_date": serializers.DateField(allow_null=True),
                "score": serializers.FloatField(help_text="0..1, 1: first in both rankings."),
                "term_score": serializers.FloatField(allow_null=True),
                "dense_score": serializers.FloatField(allow_null=True),
                "reason": inline_serializer(
                    "SimilarReason",
                    {
                        "passage": serializers.CharField(
                            help_text="The matched document's passage nearest to the query."
                        ),
                        "query_passage": serializers.CharField(),
                        "snippets": serializers.ListField(
                            child=serializers.CharField(), help_text="HTML: shared words marked."
                        ),
                    },
                ),
            },
            many=True,
        )
    },
)


def _similar(user, text: str, *, exclude, limit: int) -> Response:
    try:
        neighbours = more_like_this(
            user, text, exclude=str(exclude) if exclude else None, limit=limit
        )
    except SearchUnavailable as exc:
        raise Problem("search-unavailable", str(exc)) from None
    terms = [TermMatch(uuid.UUID(n.id), n.score, n.snippets) for n in neighbours]
    results = finding.similar(user, text, terms=terms, exclude=exclude, limit=limit)
    return Response({"results": results})


class DocumentSimilarView(APIView):
    @extend_schema(
        summary="Documents like this one, across every dossier the caller may read",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 50 (10).")],
        responses={200: SimilarResultSerializer, **problems(400, 404, 503)},
    )
    def get(self, request, document_id):
        params = LimitSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        document = access.get_document_for(request.user, document_id)
        text = finding.readable_text(request.user, document)
        return _similar(
            request.user, text, exclude=document.id, limit=params.validated_data["limit"]
        )


class QueryByPost(ReadPublicWriteByRole):
    """A POST that only reads (the query is too long for a URL): open to whoever may read."""

    def has_permission(self, request, view) -> bool:
        if request.method == "POST" and settings.EDMS_PUBLIC_ACCESS:
            return True
        return super().has_permission(request, view)


class TextSimilarView(APIView):
    permission_classes = [QueryByPost]

    @extend_schema(
        summary="Documents like a pasted text (a claim), across what the caller may read",
        request=SimilarTextSerializer,
        responses={200: SimilarResultSerializer, **problems(400, 503)},
    )
    def post(self, request):
        body = SimilarTextSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _similar(
            request.user,
            body.validated_data["text"],
            exclude=None,
            limit=body.validated_data["limit"],
        )
