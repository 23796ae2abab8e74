"""A dossier's legal-status case events: the history, and the registry recording a new one."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api import serializers as s
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from dossier import access, actions
from dossier.audit import actor_of


class DossierCaseEventsView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = s.CaseEventSerializer

    @extend_schema(
        summary="The dossier's case-event history (oldest first)",
        operation_id="dossier_case_events_list",
        responses={200: s.CaseEventSerializer(many=True), **problems(404)},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, key):
        dossier = access.get_dossier_for(request.user, key)
        page = self.paginate_queryset(dossier.case_events.order_by("date", "recorded_at", "id"))
        return self.get_paginated_response(s.CaseEventSerializer(page, many=True).data)

    @extend_schema(
        summary="Record a legal-status case event (publication, grant, withdrawal, ...)",
        description=(
            "Appends the event to the dossier's history and announces it as "
            "`dossier.case_event`. A publication opens the documents that are public after "
            "publication from its date (outgoing ones from the day after their dispatch); a "
            "withdrawal before publication keeps the file closed. The dossier's `published_at` "
            "follows. Events are never changed: record another to correct one."
        ),
        operation_id="dossier_case_events_create",
        request=s.CaseEventWriteSerializer,
        responses={201: s.CaseEventSerializer, **problems(400, 401, 403, 404, 422)},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample(
                "Publication",
                value={"kind": "publication", "date": "2025-06-04", "wipo_code": "B10"},
                request_only=True,
            )
        ],
    )
    def post(self, request, key):
        require(access.can_manage_dossiers(request.user), "record case events", request.user)
        dossier = access.get_dossier_for(request.user, key)
        body = s.CaseEventWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = actions.record_case_event(dossier, actor=actor_of(request), **body.validated_data)
        headers = {"Location": reverse("api:dossier-case-events", args=[dossier.key])}
        return Response(s.CaseEventSerializer(event).data, status=201, headers=headers)
