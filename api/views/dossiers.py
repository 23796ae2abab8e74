"""A dossier: listed, read, created or updated by file number, its file wrapper (documents
listed and registered) and its export as one ZIP package.
"""

from __future__ import annotations

import json

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import export
from api import serializers as s
from api.content import JsonForErrors
from api.digests import expected_digest
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from api.views.documents import documents_queryset
from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import Document
from dossier.uploads import staged_from_upload
from ingest.status import text_status
from metrics.instruments import counted_zip


class DossierListView(GenericAPIView):
    serializer_class = s.DossierSerializer

    @extend_schema(
        summary="List dossiers",
        operation_id="dossiers_list",
        responses={200: s.DossierSerializer(many=True), **problems(404)},
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("ip_type", str),
            OpenApiParameter("status", str),
            OpenApiParameter("q", str, description="Words in the key, title or applicants."),
        ],
    )
    def get(self, request):
        dossiers = access.visible_dossiers(request.user)
        if ip_type := request.query_params.get("ip_type"):
            dossiers = dossiers.filter(ip_type=ip_type)
        if status := request.query_params.get("status"):
            dossiers = dossiers.filter(status=status)
        if q := request.query_params.get("q", "").strip():
            # SQLite keeps JSON text ASCII-escaped (\u0418…): match that form of q too.
            json_q = json.dumps(q)[1:-1]
            dossiers = dossiers.annotate(applicants_text=Cast("applicants", TextField())).filter(
                Q(key__icontains=q)
                | Q(raw_key__icontains=q)
                | Q(title__icontains=q)
                | Q(applicants_text__icontains=q)
                | Q(applicants_text__icontains=json_q)
            )
        page = self.paginate_queryset(dossiers.order_by("key"))
        return self.get_paginated_response(s.DossierSerializer(page, many=True).data)


class DossierDetailView(IdempotentMixin, APIView):
    """One dossier, addressed by any form of its file number (or its UUID)."""

    parser_classes = [JSONParser]

    @extend_schema(summary="Get a dossier", responses={200: s.DossierDetailSerializer})
    def get(self, request, key):
        dossier = access.get_dossier_for(request.user, key)
        documents = access.visible_documents(request.user).filter(dossier=dossier)
        context = {"text_status": text_status(documents)}
        return Response(s.DossierDetailSerializer(dossier, context=context).data)

    @extend_schema(
        summary="Create or update a dossier (idempotent)",
        request=s.DossierWriteSerializer,
        responses={200: s.DossierSerializer, 201: s.DossierSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def put(self, request, key):
        require(access.can_manage_dossiers(request.user), "create or update dossiers", request.user)
        body = s.DossierWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dossier, created = actions.upsert_dossier(key, body.validated_data, actor=actor_of(request))
        headers = {"Location": reverse("api:dossier-detail", args=[dossier.key])}
        return Response(
            s.DossierSerializer(dossier).data, status=201 if created else 200, headers=headers
        )


class DossierDocumentsView(IdempotentMixin, GenericAPIView):
    """A dossier's file wrapper: list its documents, register a new one with its file."""

    parser_classes = [MultiPartParser]
    serializer_class = s.DocumentListItemSerializer

    @extend_schema(
        summary="The dossier's file wrapper",
        responses={200: s.DocumentListItemSerializer(many=True), **problems(400)},
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("type", str),
            OpenApiParameter("direction", str),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter("visibility", str),
            OpenApiParameter("state", str, description="active (default: all) or cancelled"),
        ],
    )
    def get(self, request, key):
        dossier = access.get_dossier_for(request.user, key)
        documents = documents_queryset(request.user).filter(dossier=dossier)
        filters = s.DocumentFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        documents = filters.apply(documents)
        page = self.paginate_queryset(documents.order_by("official_date", "created_at"))
        return self.get_paginated_response(
            s.DocumentListItemSerializer(page, many=True, context=s.reader_context(request)).data
        )

    @extend_schema(
        summary="Register a document with its file",
        request={"multipart/form-data": s.DocumentRegisterSerializer},
        responses={201: s.RegistrationSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, key):
        require(access.can_file_documents(request.user), "register documents", request.user)
        dossier = access.get_dossier_for(request.user, key)
        body = s.DocumentRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        parent = None
        if data.get("parent"):
            parent = access.get_document_for(request.user, data["parent"])
        version = actions.attach_document(
            dossier,
            staged_from_upload(data["file"]),
            doc_type=data["type"],
            actor=actor_of(request),
            direction=data.get("direction"),
            official_date=data.get("official_date"),
            channel=data.get("channel", ""),
            visibility=data.get("visibility"),
            title=data.get("title", ""),
            registry_id=data.get("registry_id", ""),
            language=data.get("language", ""),
            parent=parent,
            expected_sha256=expected_digest(request, data.get("sha256")),
        )
        headers = {"Location": reverse("api:document-detail", args=[version.document_id])}
        return Response(s.RegistrationSerializer(version).data, status=201, headers=headers)


class DossierExportView(APIView):
    """The dossier as a package: the files the caller may see and a manifest, one streamed ZIP."""

    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Export the dossier as a ZIP package (files + manifest.json)",
        description=(
            "Every document the caller may see, its latest version (or every version with "
            "`versions=all`), optionally its renditions, and `manifest.json` (first in the "
            "archive) giving per file the document's metadata, the path in the archive, media "
            "type, size and SHA-256. Filters as in the file-wrapper listing. Cancelled documents "
            "are left out; `include_cancelled=true` lists their tombstones in the manifest "
            "(without content). Each exported file is audited as a download."
        ),
        parameters=[
            OpenApiParameter("type", str, many=True, description="Type code(s), repeated or a,b"),
            OpenApiParameter("direction", str, enum=["in", "out", "internal"]),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter("visibility", str),
            OpenApiParameter("versions", str, enum=["latest", "all"]),
            OpenApiParameter(
                "renditions", str, many=True, description="pdfa and/or pdf, when present"
            ),
            OpenApiParameter("include_cancelled", bool),
            OpenApiParameter(
                "annotations",
                bool,
                description=(
                    "Add `annotations.json` (after the manifest): the notes on the exported "
                    "versions that you may read, yours and shared ones."
                ),
            ),
        ],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **problems(400)},
    )
    def get(self, request, key):
        dossier = access.get_dossier_for(request.user, key)
        params = s.ExportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        selection = params.selection()
        package = export.build_package(
            request.user, dossier, params.apply(Document.objects.all()), selection
        )
        package.record_downloads(actor_of(request))
        response = StreamingHttpResponse(
            counted_zip(package.stream()), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(True, package.filename)
        response["Cache-Control"] = "private, no-cache"
        response["X-Content-Type-Options"] = "nosniff"
        return response
