"""Resumable uploads over tus 1.0 (`/api/v1/uploads`): the protocol's calls, answered with its
headers; what they do is `api.resumable`'s. Errors are problem documents like everywhere else
(with `Tus-Resumable`). The OpenAPI document describes each call by its headers
(`api.tus_schema`).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import resumable, tus_schema
from api.models import UploadSession
from api.problems import Problem
from api.resumable import OFFSET_STREAM
from api.upload_filing import Filed, outcome
from dossier.audit import actor_of


class OffsetStreamParser(BaseParser):
    """Declares the tus chunk type accepted; the view reads the body itself, in chunks."""

    media_type = OFFSET_STREAM

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


def _upload_headers(session: UploadSession) -> dict[str, str]:
    return {
        "Upload-Offset": str(session.offset),
        "Upload-Length": str(session.length),
        "Upload-Expires": http_date(session.expires_at.timestamp()),
    }


def _filed_headers(filed: Filed) -> dict[str, str]:
    return {
        "Content-Location": reverse("api:document-detail", args=[filed.document_id]),
        "Edms-Document-Id": str(filed.document_id),
        "Edms-Version": str(filed.version),
    }


class TusView(APIView):
    """What every tus call shares: the version check and `Tus-Resumable` on every answer."""

    parser_classes = [OffsetStreamParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != "1.0.0":
            raise Problem("tus-version-unsupported", "this server speaks tus 1.0.0")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = resumable.TUS_VERSION
        if response.status_code == 412:
            response["Tus-Version"] = resumable.TUS_VERSION
        if response.status_code == 460:
            response.reason_phrase = "Checksum Mismatch"
        return response

    @extend_schema(**tus_schema.OPTIONS)
    def options(self, request, *args, **kwargs):
        return Response(
            status=204,
            headers={
                "Tus-Version": resumable.TUS_VERSION,
                "Tus-Extension": resumable.TUS_EXTENSIONS,
                "Tus-Max-Size": str(settings.EDMS_MAX_UPLOAD_SIZE),
                "Tus-Checksum-Algorithm": ",".join(resumable.CHECKSUM_ALGORITHMS),
            },
        )


class UploadCreateView(TusView):
    @extend_schema(**tus_schema.CREATE)
    def post(self, request):
        session = resumable.create_session(
            request.user,
            request.headers.get("Upload-Length"),
            request.headers.get("Upload-Metadata", ""),
        )
        location = reverse("api:upload-detail", args=[session.id])
        return Response(status=201, headers={"Location": location, **_upload_headers(session)})


# OPTIONS is answered here too; its id tells it from the one of `/uploads`.
@extend_schema_view(options=extend_schema(operation_id="upload_options"))
class UploadDetailView(TusView):
    @extend_schema(**tus_schema.STATUS)
    def head(self, request, upload_id):
        session = resumable.session_for(request.user, upload_id)
        headers = {**_upload_headers(session), "Cache-Control": "no-store"}
        # A completed upload answers what it became (or raises the problem that refused it).
        if filed := outcome(session):
            headers |= _filed_headers(filed)
        return Response(status=200, headers=headers)

    @extend_schema(**tus_schema.APPEND)
    def patch(self, request, upload_id):
        session = resumable.session_for(request.user, upload_id)
        if request.content_type.split(";")[0].strip().lower() != OFFSET_STREAM:
            raise Problem("unsupported-media-type", f"send the chunk as {OFFSET_STREAM}")
        filed = resumable.append(
            session,
            request.headers.get("Upload-Offset"),
            request.headers.get("Upload-Checksum"),
            request.stream or io.BytesIO(),  # None: an empty body
            actor_of(request),
        )
        headers = _upload_headers(session)
        if filed is not None:
            headers |= _filed_headers(filed)
        return Response(status=204, headers=headers)

    @extend_schema(**tus_schema.TERMINATE)
    def delete(self, request, upload_id):
        resumable.terminate(resumable.session_for(request.user, upload_id))
        return Response(status=204)
