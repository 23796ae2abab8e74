"""The change feed: the outbox's events after a cursor, as far as the caller may see them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.permissions import require
from api.problems import Problem
from api.schema import problems
from dossier import access


class EventFeedView(APIView):
    @extend_schema(
        summary="Change feed: events after a cursor, oldest first",
        parameters=[
            OpenApiParameter("after", str, description="The last cursor you processed."),
            OpenApiParameter("limit", int),
        ],
        responses={200: s.EventPageSerializer, **problems(400, 403)},
    )
    def get(self, request):
        require(access.can_read_event_feed(request.user), "read the event feed", request.user)
        after_raw = request.query_params.get("after", "0") or "0"
        limit_raw = request.query_params.get("limit", "100")
        if not after_raw.isdecimal():
            raise Problem(
                "validation-error", "after must be a cursor from this feed", field="after"
            )
        if not limit_raw.isdecimal() or not 1 <= int(limit_raw) <= 1000:
            raise Problem("validation-error", "limit must be 1 to 1000", field="limit")
        limit = int(limit_raw)
        visible = access.visible_events(request.user).filter(id__gt=int(after_raw))
        events = list(visible.order_by("id")[: limit + 1])
        has_more = len(events) > limit
        events = events[:limit]
        next_cursor = str(events[-1].id) if events else after_raw
        return Response(
            {
                "events": s.EventSerializer(events, many=True, context={"request": request}).data,
                "next_cursor": next_cursor,
                "has_more": has_more,
            }
        )
