"""The review list of near-duplicate flags, for records staff (`similarity.near_duplicates`):
list them, mark one reviewed or not a duplicate. Nothing about the documents changes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api import serializers as s
from api.permissions import require
from api.problems import Problem
from api.schema import PAGE_PARAMETERS, problems
from similarity import near_duplicates
from similarity.duplicate_models import DuplicateStatus


def _require_reviewer(request, what: str) -> None:
    require(near_duplicates.can_review(request.user), what, request.user)


class DuplicateFlagListView(GenericAPIView):
    serializer_class = s.DuplicateFlagSerializer

    @extend_schema(
        summary="Near-duplicate flags to review (records staff)",
        description="Documents found at intake to be nearly the same (text or pages) as "
        "an earlier one, newest first, among the documents the caller may read. `status` "
        "selects reviewed ones too (default: `open`).",
        operation_id="duplicate_flags_list",
        responses={200: s.DuplicateFlagSerializer(many=True), **problems(400, 401, 403, 404)},
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=DuplicateStatus.values,
                description="Flags in this status (default: `open`).",
            ),
            *PAGE_PARAMETERS,
        ],
    )
    def get(self, request):
        _require_reviewer(request, "review near-duplicates")
        status = request.query_params.get("status", DuplicateStatus.OPEN)
        if status not in DuplicateStatus.values:
            raise Problem(
                "validation-error",
                f"status is one of {', '.join(DuplicateStatus.values)}",
                field="status",
            )
        flags = (
            near_duplicates.visible_flags(request.user)
            .filter(status=status)
            .select_related(
                "document__dossier",
                "original__dossier",
                "version",
                "original_version",
                "reviewed_by",
            )
        )
        page = self.paginate_queryset(flags.order_by("-created_at", "-id"))
        return self.get_paginated_response(s.DuplicateFlagSerializer(page, many=True).data)


class DuplicateFlagReviewView(GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = s.DuplicateFlagSerializer

    @extend_schema(
        summary="Mark a near-duplicate flag reviewed, or not a duplicate",
        description="Records a person's judgement on the flag; no document is merged, "
        "cancelled or changed.",
        operation_id="duplicate_flags_review",
        request=s.DuplicateReviewSerializer,
        responses={200: s.DuplicateFlagSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request, flag_id):
        _require_reviewer(request, "review near-duplicates")
        flag = near_duplicates.visible_flags(request.user).filter(pk=flag_id).first()
        if flag is None:
            raise Problem("not-found", "no such near-duplicate flag")
        body = s.DuplicateReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = near_duplicates.review_flag(flag, body.validated_data["status"], user=request.user)
        return Response(s.DuplicateFlagSerializer(flag).data)
