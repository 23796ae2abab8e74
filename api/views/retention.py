"""Legal holds on a dossier or a document, and the disposition queue a records manager
approves: administrators only (`access.can_manage_retention`)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api import serializers as s
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import LegalHold
from retention.disposition import approve_disposition
from retention.models import DispositionItem, DispositionState


def _require_records_manager(request, what: str) -> None:
    require(access.can_manage_retention(request.user), what, request.user)


class DossierLegalHoldsView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = s.LegalHoldSerializer

    @extend_schema(
        summary="The dossier's legal holds, active and released (newest first)",
        operation_id="dossier_legal_holds_list",
        responses={200: s.LegalHoldSerializer(many=True), **problems(401, 403, 404)},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, key):
        _require_records_manager(request, "read legal holds")
        dossier = access.get_dossier_for(request.user, key)
        page = self.paginate_queryset(dossier.legal_holds.order_by("-placed_at", "id"))
        return self.get_paginated_response(s.LegalHoldSerializer(page, many=True).data)

    @extend_schema(
        summary="Place a legal hold on the dossier or one of its documents",
        description="Until released, the documents it covers are kept out of the disposition "
        "queue and the expunge call refuses them (409 `legal-hold`). Announced as "
        "`dossier.legal_hold_placed`.",
        operation_id="dossier_legal_holds_create",
        request=s.LegalHoldWriteSerializer,
        responses={201: s.LegalHoldSerializer, **problems(400, 401, 403, 404)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, key):
        _require_records_manager(request, "place legal holds")
        dossier = access.get_dossier_for(request.user, key)
        body = s.LegalHoldWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = None
        if (document_id := body.validated_data.get("document")) is not None:
            document = dossier.documents.filter(id=document_id).first()
            if document is None:
                raise Problem(
                    "unknown-document", "the dossier has no such document", field="document"
                )
        hold = actions.place_legal_hold(
            dossier,
            document=document,
            reason=body.validated_data["reason"],
            reference=body.validated_data["reference"],
            actor=actor_of(request),
        )
        headers = {"Location": reverse("api:dossier-legal-holds", args=[dossier.key])}
        return Response(s.LegalHoldSerializer(hold).data, status=201, headers=headers)


class LegalHoldReleaseView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = s.LegalHoldSerializer

    @extend_schema(
        summary="Release a legal hold, with a reason",
        description="The hold stays on record with who released it, when and why; what it "
        "covered may be disposed of again once due. Announced as `dossier.legal_hold_released`.",
        request=s.LegalHoldReleaseSerializer,
        responses={200: s.LegalHoldSerializer, **problems(400, 401, 403, 404)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, hold_id):
        _require_records_manager(request, "release legal holds")
        hold = LegalHold.objects.filter(pk=hold_id).first()
        if hold is None:
            raise Problem("not-found", "no such legal hold")
        body = s.LegalHoldReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hold = actions.release_legal_hold(
            hold, reason=body.validated_data["reason"], actor=actor_of(request)
        )
        return Response(s.LegalHoldSerializer(hold).data)


class DispositionQueueView(GenericAPIView):
    serializer_class = s.DispositionItemSerializer

    @extend_schema(
        summary="The disposition queue: documents whose retention period has ended",
        description="Filled by the daily scan (`edms sweep`); nothing here is destroyed until "
        "a records manager approves it. `state` selects decided items too (default: pending).",
        operation_id="disposition_queue_list",
        responses={200: s.DispositionItemSerializer(many=True), **problems(400, 401, 403, 404)},
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=DispositionState.values,
                description="Items in this state (default: `pending`).",
            ),
            *PAGE_PARAMETERS,
        ],
    )
    def get(self, request):
        _require_records_manager(request, "read the disposition queue")
        state = request.query_params.get("state", DispositionState.PENDING)
        if state not in DispositionState.values:
            raise Problem(
                "validation-error",
                f"state is one of {', '.join(DispositionState.values)}",
                field="state",
            )
        rows = DispositionItem.objects.filter(state=state).select_related("document__dossier")
        page = self.paginate_queryset(rows.order_by("due_on", "queued_at", "id"))
        return self.get_paginated_response(s.DispositionItemSerializer(page, many=True).data)


class DispositionApprovalView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    claim_with_the_work = False  # each item is expunged in a transaction of its own
    serializer_class = s.DispositionOutcomeSerializer

    @extend_schema(
        summary="Approve the disposition of queued documents: they are expunged",
        description="Each pending item's document is expunged (content gone; the version rows "
        "stay as tombstones, the audit trail stays) with the rule as the reason. At most "
        "EDMS_DISPOSITION_BATCH items a call. A document a legal hold covers is not expunged "
        "and leaves the queue (`held`); items not pending are `skipped`.",
        request=s.DispositionApprovalSerializer,
        responses={200: s.DispositionOutcomeSerializer, **problems(400, 401, 403)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        _require_records_manager(request, "approve disposition")
        body = s.DispositionApprovalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = approve_disposition(body.validated_data["items"], actor=actor_of(request))
        return Response(s.DispositionOutcomeSerializer(outcome).data)
