"""WIPO DAS priority documents (`exchange.das`): start a registration, a retrieval or a
withdrawal, list a dossier's requests with their state, and the notification DAS sends.

Starting a request returns at once (202) with the request as queued: a task does the talking
to DAS. Who may: whoever may file documents (a request files the certificate or the retrieved
document); anyone else with a role reads the states, but only the first sees access codes,
which let anyone who holds them (and the number) retrieve the document from DAS.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentMixin
from api.permissions import require
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from dossier import access
from dossier.audit import actor_of
from exchange.das import progress, submit
from exchange.das.models import DasRequest, Operation, State
from exchange.das.tasks import advance_das_request

# --- Serializers ----------------------------------------------------------------------------


class DasRequestSerializer(serializers.ModelSerializer):
    dossier = serializers.CharField(source="dossier.key", read_only=True)
    access_code = serializers.SerializerMethodField(
        help_text="Shown only to callers who may file documents; null for the others."
    )

    class Meta:
        model = DasRequest
        fields = [
            "id",
            "role",
            "operation",
            "state",
            "dossier",
            "document",
            "certificate",
            "withdraws",
            "document_kind",
            "document_number",
            "document_date",
            "access_code",
            "das_request_id",
            "available_from",
            "attempts",
            "next_attempt_at",
            "error_code",
            "last_error",
            "requested_by",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_access_code(self, request: DasRequest) -> str | None:
        user = self.context["request"].user
        return request.access_code if access.can_file_documents(user) else None


class DasRequestStartSerializer(serializers.Serializer):
    """POST body: a registration (`document`) or a retrieval (`document_number`,
    `access_code`)."""

    operation = serializers.ChoiceField(
        choices=[Operation.REGISTRATION, Operation.RETRIEVAL],
        help_text="`registration`: as office of first filing, send one of the dossier's "
        "documents to DAS. `retrieval`: as office of second filing, fetch a priority document "
        "from DAS into this dossier (as PRIO, channel das).",
    )
    document = serializers.UUIDField(
        required=False, help_text="Registration: the priority document to register."
    )
    document_number = serializers.CharField(
        required=False, max_length=64, help_text="Retrieval: the priority application's number."
    )
    document_date = serializers.DateField(
        required=False, help_text="Retrieval: the priority application's filing date."
    )
    document_kind = serializers.ChoiceField(
        choices=sorted(set(submit.DOCUMENT_KINDS.values())),
        required=False,
        help_text="Retrieval: DAS's documentKindCategory; default: the dossier's kind.",
    )
    access_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Retrieval: the code the applicant gave. Registration: optional, "
        "generated when absent.",
    )

    def validate(self, data: dict) -> dict:
        if data["operation"] == Operation.REGISTRATION and "document" not in data:
            raise serializers.ValidationError({"document": "a registration names a document"})
        if data["operation"] == Operation.RETRIEVAL:
            for name in ("document_number", "access_code"):
                if not data.get(name):
                    raise serializers.ValidationError({name: "a retrieval needs it"})
        return data


class DasNotificationSerializer(serializers.Serializer):
    """DAS's notification, in DAS's field names."""

    requestId = serializers.CharField(max_length=100)
    requestStatusCategory = serializers.CharField(max_length=20, required=False)


# --- Views ----------------------------------------------------------------------------------


class DossierDasRequestsView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = DasRequestSerializer

    @extend_schema(
        summary="The dossier's DAS requests (newest first) and their state",
        operation_id="dossier_das_requests_list",
        responses={200: DasRequestSerializer(many=True), **problems(401, 403, 404)},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, key):
        require(access.can_see_operations(request.user), "read DAS requests", request.user)
        dossier = access.get_dossier_for(request.user, key)
        rows = DasRequest.objects.filter(dossier=dossier).select_related("dossier")
        page = self.paginate_queryset(rows.order_by("-created_at", "id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Start a DAS registration or retrieval (answered at once: 202)",
        description=(
            "Registration (office of first filing): the document is sent to WIPO DAS under the "
            "dossier's number and filing date; on success the registration certificate is filed "
            "in the dossier and the access code kept on the request. Retrieval (office of second "
            "filing): the priority document is fetched with the applicant's access code and "
            "filed as `PRIO`, channel `das`. Follow the request's `state`: queued, pending, "
            "succeeded, failed (with `error_code` and `last_error`), withdrawn."
        ),
        operation_id="dossier_das_requests_create",
        request=DasRequestStartSerializer,
        responses={202: DasRequestSerializer, **problems(400, 401, 403, 404, 422)},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample(
                "Retrieval",
                value={
                    "operation": "retrieval",
                    "document_number": "US 63/123,456",
                    "document_date": "2024-05-02",
                    "access_code": "7Q2K",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, key):
        require(access.can_file_documents(request.user), "start DAS requests", request.user)
        dossier = access.get_dossier_for(request.user, key)
        body = DasRequestStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = actor_of(request)
        if data["operation"] == Operation.REGISTRATION:
            document = access.get_document_for(request.user, data["document"])
            started = submit.request_registration(
                dossier, document, actor=actor, access_code=data.get("access_code", "")
            )
        else:
            started = submit.request_retrieval(
                dossier,
                actor=actor,
                document_number=data["document_number"],
                access_code=data["access_code"],
                document_date=data.get("document_date"),
                document_kind=data.get("document_kind", ""),
            )
        return Response(self.get_serializer(started).data, status=202)


class DasWithdrawalView(IdempotentMixin, GenericAPIView):
    serializer_class = DasRequestSerializer

    @extend_schema(
        summary="Withdraw a DAS registration (answered at once: 202, the withdrawal request)",
        operation_id="das_request_withdraw",
        request=None,
        responses={202: DasRequestSerializer, **problems(400, 401, 403, 404)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, request_id):
        require(access.can_file_documents(request.user), "withdraw DAS registrations", request.user)
        registration = DasRequest.objects.filter(pk=request_id).select_related("dossier").first()
        if registration is None:
            raise access.NotFound("DAS request", str(request_id))
        access.get_dossier_for(request.user, registration.dossier.key)  # 404 if not visible
        withdrawal = submit.request_withdrawal(registration, actor=actor_of(request))
        return Response(self.get_serializer(withdrawal).data, status=202)


class DasNotificationAuthentication(authentication.BaseAuthentication):
    """DAS's own calls: `Authorization: Bearer <EDMS_DAS_NOTIFICATION_TOKEN>`."""

    def authenticate(self, request):
        expected = settings.EDMS_DAS_NOTIFICATION_TOKEN
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if not expected or scheme.lower() != "bearer":
            raise exceptions.AuthenticationFailed("DAS notifications carry the agreed token")
        if not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise exceptions.AuthenticationFailed("DAS notifications carry the agreed token")
        return AnonymousUser(), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="edms-das"'


class DasNotificationAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = DasNotificationAuthentication
    name = "dasNotificationAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The token agreed with DAS (EDMS_DAS_NOTIFICATION_TOKEN).",
        }


class DasNotificationView(APIView):
    """What DAS calls when a request's status changed: the next poll becomes due at once."""

    authentication_classes = [DasNotificationAuthentication]
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="DAS notifies a request's new status (answered 204)",
        operation_id="das_notification",
        request=DasNotificationSerializer,
        responses={204: None, **problems(400, 401)},
    )
    def post(self, request):
        body = DasNotificationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        known = progress.notified(body.validated_data["requestId"])
        if known is not None and known.state == State.PENDING:
            transaction.on_commit(lambda: advance_das_request.delay(str(known.pk)))
        # 204 for an unknown request too: DAS learns nothing about what this office holds.
        return Response(status=204)
