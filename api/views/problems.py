"""The problem types: what the `type` URI of every error response leads to."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.problems import PROBLEM_TYPES, Problem


class ProblemTypeView(APIView):
    """Human description of a problem type (the `type` URI of every error)."""

    @extend_schema(exclude=True)
    def get(self, request, slug):
        kind = PROBLEM_TYPES.get(slug)
        if kind is None:
            raise Problem("not-found", f"no problem type {slug!r}")
        return Response({"type": kind.uri, "title": kind.title, "status": kind.status})
