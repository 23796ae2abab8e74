"""A dossier's audit trail: who did what to it and its documents, chained by hash."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView

from api import serializers as s
from api.permissions import require
from api.schema import PAGE_PARAMETERS, problems
from dossier import access
from dossier.audit_export import entry
from dossier.models import AuditEvent


class DossierAuditView(GenericAPIView):
    serializer_class = s.AuditEntrySerializer

    @extend_schema(
        summary="The dossier's audit trail (oldest first)",
        description=(
            "Every audited action and download on the dossier and its documents, with the "
            "hashes that chain each row to the one before it. For evidence with the signed "
            "checkpoint, use `edms audit export KEY`. Administrators and records clerks only."
        ),
        operation_id="dossier_audit_list",
        responses={200: s.AuditEntrySerializer(many=True), **problems(400, 401, 403, 404)},
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "document", OpenApiTypes.UUID, description="Only this document's rows."
            ),
        ],
    )
    def get(self, request, key):
        require(access.can_read_audit_trail(request.user), "read audit trails", request.user)
        dossier = access.get_dossier_for(request.user, key)
        rows = AuditEvent.objects.filter(dossier_key=dossier.key).order_by("seq", "id")
        document = request.query_params.get("document")
        if document:
            try:
                document = str(uuid.UUID(document))
            except ValueError:
                raise ValidationError({"document": ["Must be a document id (UUID)."]}) from None
            rows = rows.filter(object_type="document", object_id=document)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([entry(row) for row in page])
