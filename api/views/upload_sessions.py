"""Upload sessions (`/api/v1/upload-sessions`): a large file in parts PUT to URLs of their own,
straight to S3 when the blobs are there; what the calls do is `api.upload_sessions`'s."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import spooled_parts, upload_sessions
from api.authentication import ApiKeyAuthentication
from api.models import PartUploadSession
from api.problems import problem_body
from api.schema import problems
from api.serializers.upload_sessions import (
    UploadSessionCreateSerializer,
    UploadSessionSerializer,
)
from dossier.audit import actor_of


def _representation(request, session: PartUploadSession) -> dict:
    """The session as answered: its parts (where to PUT them while it is open), what arrived,
    and its outcome once committed."""
    arrived = upload_sessions.received_parts(session)
    state = upload_sessions.state_of(session)
    urls: dict[int, str] = {}
    if state == "open" and not session.assembled:

        def local_url(number: int, token: str) -> str:
            path = reverse("api:upload-session-part", args=[session.id, number])
            return request.build_absolute_uri(f"{path}?token={token}")

        urls = upload_sessions.part_urls(session, local_url)
    parts = []
    for part in session.parts():
        item = {
            "number": part.number,
            "offset": part.offset,
            "size": part.size,
            "received": part.number in arrived,
        }
        if part.number in urls:
            item["url"] = urls[part.number]
        parts.append(item)
    problem = None
    if session.failure is not None:
        failure = session.failure
        problem = problem_body(
            failure["slug"], failure["detail"], field=failure["field"], extra=failure["extra"]
        )
    return {
        "id": session.id,
        "state": state,
        "store": session.store,
        "size": session.length,
        "sha256": session.sha256,
        "filename": session.filename,
        "part_size": session.part_size,
        "part_count": session.part_count,
        "expires_at": session.expires_at,
        "parts": parts,
        "missing_parts": [p["number"] for p in parts if not p["received"]],
        "document": session.filed_document_id,
        "version": session.filed_version,
        "problem": problem,
    }


def _answer(request, session: PartUploadSession, status: int = 200) -> Response:
    body = UploadSessionSerializer(_representation(request, session)).data
    headers = {"Cache-Control": "no-store"}
    if session.filed_document_id is not None:
        headers["Content-Location"] = reverse(
            "api:document-detail", args=[session.filed_document_id]
        )
    return Response(body, status=status, headers=headers)


class UploadSessionListView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Open an upload session: a large file sent in parts, each PUT to its own URL",
        description=(
            "Declares the file (size, SHA-256, name, media type) and its target: `dossier` and "
            "`type` for a new document, or `document` for its next version. A wrong target, "
            "role or size is refused here, before any byte is sent. The answer lists every "
            "part with the URL to PUT its bytes to, with no credentials: with blobs on S3 a "
            "pre-signed URL of the bucket (the bytes never pass through edms), else edms's own "
            "`…/parts/{number}?token=…`. Then `POST …/commit`."
        ),
        request=UploadSessionCreateSerializer,
        responses={201: UploadSessionSerializer, **problems(403, 404, 413, 503)},
        examples=[
            OpenApiExample(
                "A new document",
                value={
                    "size": 2147483648,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "filename": "sequence-listing.xml",
                    "media_type": "application/xml",
                    "dossier": "BG/P/2024/000123",
                    "type": "SEQL",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        body = UploadSessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        session = upload_sessions.create(
            request.user,
            size=data["size"],
            sha256=data["sha256"],
            filename=data["filename"],
            media_type=data["media_type"],
            target=body.target(),
            part_size=data.get("part_size"),
        )
        answer = _answer(request, session, status=201)
        answer["Location"] = reverse("api:upload-session-detail", args=[session.id])
        return answer


class UploadSessionDetailView(APIView):
    @extend_schema(
        summary="An upload session: which parts arrived (PUT the missing ones), its outcome",
        description=(
            "The part URLs are issued afresh with every answer while the session is open: a "
            "client resuming after a broken connection PUTs the parts of `missing_parts`."
        ),
        responses={200: UploadSessionSerializer, **problems(404, 410, 503)},
    )
    def get(self, request, session_id):
        return _answer(request, upload_sessions.session_for(request.user, session_id))

    @extend_schema(
        summary="Abort the upload session: its parts are dropped",
        responses={204: None, **problems(404, 409, 410, 503)},
    )
    def delete(self, request, session_id):
        upload_sessions.abort(upload_sessions.session_for(request.user, session_id))
        return Response(status=204)


class UploadSessionCommitView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Commit the upload session: check the parts and the SHA-256, file the content",
        description=(
            "Every part must have arrived (else `409 upload-incomplete` with `missing_parts`). "
            "The content is hashed once; not the declared SHA-256: `422 digest-mismatch`, "
            "nothing stored. Else it is filed as a new document (version 1) or the next "
            "version, like any upload. The outcome is kept: a repeated commit answers the same "
            "(the session, or the same problem) and files nothing again."
        ),
        request=None,
        responses={200: UploadSessionSerializer, **problems(403, 404, 409, 410, 422, 503)},
    )
    def post(self, request, session_id):
        session = upload_sessions.session_for(request.user, session_id)
        upload_sessions.commit(session, actor_of(request))
        session.refresh_from_db()
        return _answer(request, session)


class RawPartParser(BaseParser):
    """Any body: the view streams it to the spool itself, never parsed or held whole."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class UploadSessionPartView(APIView):
    """A part of a filesystem session, PUT to the signed URL the session handed out."""

    # The token is the credential (a client treats S3's pre-signed URLs and these alike); an
    # API key sent anyway is still checked, so a wrong one is the 401 it is everywhere.
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [permissions.AllowAny]
    parser_classes = [RawPartParser]

    @extend_schema(
        summary="PUT a part's bytes (filesystem blob store; S3 parts go to the bucket)",
        parameters=[OpenApiParameter("token", str, required=True)],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(description="The part arrived whole"),
            **problems(403, 404, 409, 410),
        },
    )
    def put(self, request, session_id, number):
        length = request.META.get("CONTENT_LENGTH")
        spooled_parts.receive_part(
            session_id,
            number,
            request.query_params.get("token", ""),
            request.stream,
            int(length) if length and length.isdigit() else None,
        )
        return Response(status=204)
