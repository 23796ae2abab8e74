"""A version's redacted copy for the public: stored by staff (PUT), read by anyone who may see
the document (GET). What the public reads instead of the original is decided in
`dossier.redaction`; the content, text and rendition views ask `public_copy`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.content import JsonForErrors, blob_response
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import CONTENT_HEADERS, IDEMPOTENCY_HEADER, content_responses, problems
from api.uploads import RawFileParser
from dossier import access, actions, redaction
from dossier.audit import actor_of
from dossier.models import Document, Rendition, RenditionKind, Version
from dossier.uploads import staged_from_upload


def public_copy(request, document: Document, version: Version, kind: str) -> Rendition | None:
    """For a caller who reads `document` only redacted (`redaction.reads_redacted`): the
    version's redacted copy (`kind`: the PDF or its text), or a 404 problem if it has none.
    None for everyone else: they read the original."""
    if not redaction.reads_redacted(request.user, document):
        return None
    copy = redaction.redacted(version, kind)
    if copy is None:
        raise Problem(
            "no-redacted-copy",
            f"version {version.number} is published only as a redacted copy, and has none",
        )
    return copy


def redacted_filename(version: Version) -> str:
    stem = version.filename.rsplit(".", 1)[0] or "document"
    return f"{stem}.redacted.pdf"


class RedactedCopyView(IdempotentMixin, APIView):
    """A version's redacted copy: the PDF the public reads instead of the original."""

    parser_classes = [MultiPartParser, RawFileParser]
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Download the version's redacted copy (the PDF the public reads)",
        parameters=[
            OpenApiParameter("disposition", str, enum=["attachment", "inline"]),
            *CONTENT_HEADERS,
        ],
        responses={**content_responses("application/pdf"), **problems(410)},
    )
    def get(self, request, document_id, number):
        document = access.get_document_for(request.user, document_id)
        version = _version_of(document, number)
        copy = redaction.redacted(version)
        if copy is None:
            raise Problem("no-redacted-copy", f"version {number} has no redacted copy")
        response = blob_response(
            request,
            copy.blob,
            media_type=copy.media_type,
            filename=redacted_filename(version),
            inline=request.query_params.get("disposition") == "inline",
        )
        if response.status_code in (200, 206):
            version.document = document
            actions.record_download(
                version,
                actor=actor_of(request),
                byte_range=request.headers.get("Range"),
                rendition=RenditionKind.REDACTED,
            )
        return response

    @extend_schema(
        summary="Store the version's redacted copy for the public (a flattened PDF: multipart "
        "`file`, or the raw body)",
        description="The text the public may read and search is extracted from this copy; the "
        "original and its text are never changed. A PDF still carrying unapplied redaction "
        "annotations is refused. Storing a copy again replaces it.",
        request={
            "multipart/form-data": s.VersionUploadSerializer,
            "application/pdf": OpenApiTypes.BINARY,
        },
        responses={200: s.RenditionSerializer, **problems(404, 409, 410, 422)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def put(self, request, document_id, number):
        document = access.get_document_for(request.user, document_id)
        require(access.can_redact(request.user), "store redacted copies", request.user)
        version = _version_of(document, number)
        body = s.VersionUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rendition = actions.store_redacted_copy(
            version, staged_from_upload(body.validated_data["file"]), actor=actor_of(request)
        )
        rendition.version = version
        return Response(s.RenditionSerializer(rendition).data)


def _version_of(document: Document, number: int) -> Version:
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Problem("unknown-version", f"the document has no version {number}")
    if version.expunged_at is not None:
        raise Problem("content-expunged", f"version {number} was expunged")
    return version
