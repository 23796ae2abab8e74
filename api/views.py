"""The registry API (v1). Views validate input, check access, call one action, render."""

from __future__ import annotations

import base64
import binascii
import json

from django.db.models import Prefetch, Q, TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import export
from api import serializers as s
from api.content import blob_response, content_response, harden
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import PROBLEM_TYPES, Problem
from api.schema import CONTENT_HEADERS, PAGE_PARAMETERS, content_responses, problems
from api.uploads import RawFileParser
from dossier import access, actions
from dossier.audit import actor_of
from dossier.lanes import Lane
from dossier.models import Document, Rendition, RenditionKind, Version
from dossier.roles import Role, role_of
from dossier.uploads import staged_from_upload
from ingest import capabilities, pipeline
from ingest.models import Processing, State
from ingest.status import text_status
from search import find, indexer
from search.backends import SearchUnavailable, get_backend
from search.querylang import QuerySyntaxError

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes the request safe to retry: a retry replays the first response.",
)


def expected_digest(request, form_value: str | None) -> str | None:
    """The SHA-256 the client vouches for: form field, `Repr-Digest` (RFC 9530) or `Digest`."""
    if form_value:
        return form_value.lower()
    for header in ("Repr-Digest", "Content-Digest", "Digest"):
        value = request.headers.get(header)
        if not value:
            continue
        for item in value.split(","):
            name, _, encoded = item.strip().partition("=")
            if name.strip().lower() == "sha-256":
                return _base64_digest_to_hex(encoded.strip().strip(":"), header)
    return None


def _base64_digest_to_hex(encoded: str, header: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise Problem(
            "validation-error", f"{header} sha-256 is not a base64 SHA-256 digest", field=header
        )
    return raw.hex()


def versions_queryset():
    """Versions as the API shows them: blob, author, processing and renditions in 2 queries."""
    renditions = Prefetch("renditions", queryset=Rendition.objects.select_related("blob"))
    return Version.objects.select_related("blob", "created_by", "processing").prefetch_related(
        renditions
    )


def documents_queryset(user):
    return (
        access.visible_documents(user)
        .select_related("dossier", "doc_type")
        .prefetch_related(Prefetch("versions", queryset=versions_queryset()))
    )


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
        return self.get_paginated_response(s.DocumentListItemSerializer(page, many=True).data)

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


class JsonForErrors(BaseContentNegotiation):
    """For views that answer with a file: `Accept: application/zip` must not be refused (406);
    whatever the client accepts, errors are problem documents in JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


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
        response = StreamingHttpResponse(package.stream(), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(True, package.filename)
        response["Cache-Control"] = "private, no-cache"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class DocumentDetailView(IdempotentMixin, APIView):
    """One document with its versions; metadata changes, moves and cancellation."""

    parser_classes = [JSONParser]

    def get_document(self, request, document_id) -> Document:
        access.get_document_for(request.user, document_id)
        return documents_queryset(request.user).get(id=document_id)

    @extend_schema(summary="A document and its versions", responses={200: s.DocumentSerializer})
    def get(self, request, document_id):
        return Response(s.DocumentSerializer(self.get_document(request, document_id)).data)

    @extend_schema(
        summary="Change metadata, move to another dossier, or cancel",
        request=s.DocumentPatchSerializer,
        responses={200: s.DocumentSerializer, **problems(409)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def patch(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        body = s.DocumentPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = actor_of(request)
        cancel = data.pop("state", None) == "cancelled"
        reason = data.pop("cancel_reason", "")
        if "type" in data:
            data["doc_type"] = data.pop("type")
        if "dossier" in data:
            data["dossier"] = access.get_dossier_for(request.user, data["dossier"])
        # Check every permission first, so a refused request is not half applied.
        if data:
            require(access.can_change_documents(request.user), "change documents", request.user)
        if cancel:
            require(access.can_cancel_documents(request.user), "cancel documents", request.user)
        if data:
            document = actions.update_document(document, data, actor=actor)
        if cancel:
            document = actions.cancel_document(document, reason=reason, actor=actor)
        return Response(s.DocumentSerializer(self.get_document(request, document.id)).data)


class DocumentVersionsView(IdempotentMixin, APIView):
    """A document's immutable, numbered versions."""

    parser_classes = [MultiPartParser, RawFileParser]

    @extend_schema(
        summary="The document's versions", responses={200: s.VersionSerializer(many=True)}
    )
    def get(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        versions = versions_queryset().filter(document=document)
        return Response(s.VersionSerializer(versions, many=True).data)

    @extend_schema(
        summary="Add a version (multipart `file`, or the raw body with a filename header)",
        request={
            "multipart/form-data": s.VersionUploadSerializer,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        responses={201: s.RegistrationSerializer, **problems(409, 422)},
        parameters=[
            IDEMPOTENCY_HEADER,
            OpenApiParameter(
                "X-Filename",
                str,
                OpenApiParameter.HEADER,
                description="Percent-encoded filename for raw-body uploads.",
            ),
        ],
    )
    def post(self, request, document_id):
        require(access.can_file_documents(request.user), "add versions", request.user)
        document = access.get_document_for(request.user, document_id)
        body = s.VersionUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = actions.add_version(
            document,
            staged_from_upload(body.validated_data["file"]),
            actor=actor_of(request),
            expected_sha256=expected_digest(request, body.validated_data.get("sha256")),
        )
        headers = {"Location": reverse("api:document-detail", args=[document.id])}
        return Response(s.RegistrationSerializer(version).data, status=201, headers=headers)


class ContentView(APIView):
    @extend_schema(
        summary="Download content (latest version, or version n)",
        description="Answered in the media type detected when the content was stored.",
        parameters=[
            OpenApiParameter("disposition", str, enum=["attachment", "inline"]),
            *CONTENT_HEADERS,
        ],
        responses=content_responses(),
    )
    def get(self, request, document_id, number=None):
        document = access.get_document_for(request.user, document_id)
        number = document.latest_version if number is None else number
        version = (
            Version.objects.select_related("blob", "document__dossier")
            .filter(document=document, number=number)
            .first()
        )
        if version is None:
            raise Problem("unknown-version", f"the document has no version {number}")
        response = content_response(
            request, version, inline=request.query_params.get("disposition") == "inline"
        )
        if response.status_code in (200, 206):
            actions.record_download(
                version, actor=actor_of(request), byte_range=request.headers.get("Range")
            )
        return response


def _version_of(document: Document, number: int) -> Version:
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Problem("unknown-version", f"the document has no version {number}")
    return version


class VersionTextView(APIView):
    @extend_schema(
        summary="The version's extracted text (once its processing is done)",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request, document_id, number):
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        processing = Processing.objects.filter(version=version).first()
        if processing is None or processing.state != State.DONE:
            state = processing.state if processing else "not queued"
            raise Problem(
                "text-not-available",
                f"version {number} has no extracted text yet (processing: {state})",
            )
        if processing.text_id is None:  # done, but nothing to read (e.g. a photo before OCR)
            return harden(StreamingHttpResponse([], content_type=pipeline.TEXT_MEDIA_TYPE))
        # Text extracted from untrusted content is untrusted too: served like content.
        stem = version.filename.rsplit(".", 1)[0] or "document"
        return blob_response(
            request,
            processing.text,
            media_type=pipeline.TEXT_MEDIA_TYPE,
            filename=f"{stem}.txt",
            inline=True,
        )


class VersionRenditionView(APIView):
    @extend_schema(
        summary="Download a rendition of the version (pdfa, pdf or thumbnail)",
        parameters=[
            OpenApiParameter("disposition", str, enum=["attachment", "inline"]),
            *CONTENT_HEADERS,
        ],
        responses=content_responses("application/pdf", "image/png"),
    )
    def get(self, request, document_id, number, kind):
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        rendition = (
            Rendition.objects.select_related("blob").filter(version=version, kind=kind).first()
        )
        if rendition is None:
            raise Problem(
                "unknown-rendition", f"version {number} has no {kind!r} rendition", field="kind"
            )
        response = blob_response(
            request,
            rendition.blob,
            media_type=rendition.media_type,
            filename=rendition_filename(version, kind),
            inline=request.query_params.get("disposition") == "inline",
        )
        # Reading a document in another form is reading it; thumbnails (shown in listings by
        # the dozen) are not audited one by one.
        if response.status_code in (200, 206) and kind != RenditionKind.THUMBNAIL:
            version.document = document
            actions.record_download(
                version, actor=actor_of(request), byte_range=request.headers.get("Range")
            )
        return response


def rendition_filename(version: Version, kind: str) -> str:
    stem = version.filename.rsplit(".", 1)[0] or "document"
    return {
        RenditionKind.PDFA: f"{stem}.pdfa.pdf",
        RenditionKind.PDF: f"{stem}.pdf",
        RenditionKind.THUMBNAIL: f"{stem}.page-1.png",
    }.get(kind, f"{stem}.{kind}")


class IngestCapabilitiesView(APIView):
    @extend_schema(
        summary="Which renditions this installation makes, and what is missing for the others",
        responses={
            200: inline_serializer(
                "IngestCapabilities",
                {
                    "renditions": serializers.ListField(child=serializers.DictField()),
                    "ocr_languages": serializers.ListField(child=serializers.CharField()),
                },
            ),
        },
    )
    def get(self, request):
        require(
            role_of(request.user) != Role.PUBLIC, "see the ingestion capabilities", request.user
        )
        return Response(capabilities.report())


class VersionReprocessView(APIView):
    @extend_schema(
        summary="Run the ingestion pipeline on the version again",
        request=None,
        responses={202: s.ProcessingSerializer, **problems(409)},
    )
    def post(self, request, document_id, number):
        require(access.can_change_documents(request.user), "reprocess versions")
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        try:
            # Reprocessing is bulk work: it never delays what people are filing now.
            processing = pipeline.request_processing(version, again=True, lane=Lane.BULK)
        except pipeline.AlreadyRunning as exc:
            raise Problem("processing-in-progress", str(exc)) from None
        return Response(s.ProcessingSerializer(processing).data, status=202)


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
                "events": s.EventSerializer(events, many=True).data,
                "next_cursor": next_cursor,
                "has_more": has_more,
            }
        )


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


class ProblemTypeView(APIView):
    """Human description of a problem type (the `type` URI of every error)."""

    @extend_schema(exclude=True)
    def get(self, request, slug):
        kind = PROBLEM_TYPES.get(slug)
        if kind is None:
            raise Problem("not-found", f"no problem type {slug!r}")
        return Response({"type": kind.uri, "title": kind.title, "status": kind.status})
