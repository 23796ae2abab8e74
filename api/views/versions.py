"""A document's immutable, numbered versions: added, listed, downloaded as content, as text or as a
rendition, and processed again; and what processing this installation can do.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.content import JsonForErrors, blob_response, content_response, harden
from api.digests import expected_digest
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import CONTENT_HEADERS, IDEMPOTENCY_HEADER, content_responses, problems
from api.uploads import RawFileParser
from api.views.documents import versions_queryset
from api.views.redaction import public_copy, redacted_filename
from dossier import access, actions, redaction
from dossier.audit import actor_of
from dossier.lanes import Lane
from dossier.models import UPLOADED_RENDITIONS, Document, Rendition, RenditionKind, Version
from dossier.roles import Role, role_of
from dossier.uploads import staged_from_upload
from ingest import capabilities, pipeline
from ingest.models import Processing, State


class DocumentVersionsView(IdempotentMixin, APIView):
    """A document's immutable, numbered versions."""

    parser_classes = [MultiPartParser, RawFileParser]

    @extend_schema(
        summary="The document's versions", responses={200: s.VersionSerializer(many=True)}
    )
    def get(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        versions = versions_queryset().filter(document=document)
        return Response(
            s.VersionSerializer(versions, many=True, context=s.reader_context(request)).data
        )

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
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Download content (latest version, or version n)",
        description="Answered in the media type detected when the content was stored.",
        parameters=[
            OpenApiParameter("disposition", str, enum=["attachment", "inline"]),
            *CONTENT_HEADERS,
        ],
        responses={**content_responses(), **problems(410)},
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
        refuse_expunged(version, request.user)
        inline = request.query_params.get("disposition") == "inline"
        copy = public_copy(request, document, version, RenditionKind.REDACTED)
        if copy is not None:  # the public reads a redacted document only redacted
            response = blob_response(
                request,
                copy.blob,
                media_type=copy.media_type,
                filename=redacted_filename(version),
                inline=inline,
            )
        else:
            response = content_response(request, version, inline=inline)
        if response.status_code in (200, 206):
            actions.record_download(
                version,
                actor=actor_of(request),
                byte_range=request.headers.get("Range"),
                rendition=copy.kind if copy is not None else None,
            )
        return response


def _version_of(document: Document, number: int) -> Version:
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Problem("unknown-version", f"the document has no version {number}")
    return version


def refuse_expunged(version: Version, user) -> None:
    """410: an expunged version is a tombstone; its content, text and renditions are gone. The
    order's reference is named only to those who may see it (`access.sees_expunge_details`)."""
    if version.expunged_at is not None:
        authority = f" ({version.expunge_reference})" if access.sees_expunge_details(user) else ""
        raise Problem(
            "content-expunged",
            f"version {version.number} was expunged{authority}; its content is gone for good",
        )


class VersionTextView(APIView):
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="The version's extracted text (once its processing is done)",
        # Served like content (`_text_response`): ranges, ETags and their answers too.
        parameters=CONTENT_HEADERS,
        responses={**content_responses("text/plain"), **problems(410)},
    )
    def get(self, request, document_id, number):
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        refuse_expunged(version, request.user)
        copy = public_copy(request, document, version, RenditionKind.REDACTED_TEXT)
        if copy is not None:  # the public reads only the text of the redacted copy
            return _redacted_text_response(request, document, version, copy)
        processing = Processing.objects.filter(version=version).first()
        if processing is None or processing.state != State.DONE:
            state = processing.state if processing else "not queued"
            raise Problem(
                "text-not-available",
                f"version {number} has no extracted text yet (processing: {state})",
            )
        # The text is a fact of the version (recorded with "done"); ingest's row says the state.
        if version.text_id is None:  # done, but nothing to read (e.g. a photo before OCR)
            return harden(StreamingHttpResponse([], content_type=pipeline.TEXT_MEDIA_TYPE))
        return _text_response(request, document, version, version.text, "txt", "text")


def _redacted_text_response(request, document, version: Version, copy: Rendition):
    return _text_response(request, document, version, copy.blob, "redacted.txt", copy.kind)


def _text_response(request, document, version: Version, blob, suffix: str, rendition: str):
    """A version's text (extracted, or its redacted copy's), served like content: text from
    untrusted content is untrusted too. It is the document's words: reading it is reading the
    document, audited alike."""
    stem = version.filename.rsplit(".", 1)[0] or "document"
    response = blob_response(
        request, blob, media_type=pipeline.TEXT_MEDIA_TYPE, filename=f"{stem}.{suffix}", inline=True
    )
    if response.status_code in (200, 206):
        version.document = document
        actions.record_download(
            version,
            actor=actor_of(request),
            byte_range=request.headers.get("Range"),
            rendition=rendition,
        )
    return response


class VersionRenditionView(APIView):
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Download a rendition (pdfa, pdf, thumbnail, redacted, redacted_text)",
        parameters=[
            OpenApiParameter("disposition", str, enum=["attachment", "inline"]),
            *CONTENT_HEADERS,
        ],
        responses={**content_responses("application/pdf", "image/png"), **problems(410)},
    )
    def get(self, request, document_id, number, kind):
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        refuse_expunged(version, request.user)
        if kind not in UPLOADED_RENDITIONS and redaction.reads_redacted(request.user, document):
            # Processing's renditions (PDF/A, thumbnail) show the original: never to the public
            # of a redacted document.
            raise Problem(
                "no-redacted-copy",
                f"version {number} is published only as a redacted copy",
                field="kind",
            )
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
        RenditionKind.REDACTED: f"{stem}.redacted.pdf",
        RenditionKind.REDACTED_TEXT: f"{stem}.redacted.txt",
    }.get(kind, f"{stem}.{kind}")


class VersionRestoreView(IdempotentMixin, APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Restore version n: its content becomes the next version (same blob)",
        request=s.VersionRestoreSerializer,
        responses={201: s.RegistrationSerializer, **problems(409, 410)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, document_id, number):
        require(access.can_file_documents(request.user), "restore versions", request.user)
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        body = s.VersionRestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        restored = actions.restore_version(
            version, reason=body.validated_data["reason"], actor=actor_of(request)
        )
        headers = {"Location": reverse("api:document-detail", args=[document.id])}
        return Response(s.RegistrationSerializer(restored).data, status=201, headers=headers)


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
        responses={202: s.ProcessingSerializer, **problems(409, 410)},
    )
    def post(self, request, document_id, number):
        require(access.can_change_documents(request.user), "reprocess versions")
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        refuse_expunged(version, request.user)
        try:
            # Reprocessing is bulk work: it never delays what people are filing now.
            processing = pipeline.request_processing(version, again=True, lane=Lane.BULK)
        except pipeline.AlreadyRunning as exc:
            raise Problem("processing-in-progress", str(exc)) from None
        return Response(s.ProcessingSerializer(processing).data, status=202)
