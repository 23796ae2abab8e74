"""How the OpenAPI document describes the tus calls of `/api/v1/uploads` (`api.views.uploads`).

tus is a protocol of headers: what a call sends and answers is in `Upload-*` and `Tus-*` headers,
and only its errors have a body (problem documents, like every other error). So each call is
described by its header parameters, its answers' headers and the problems it answers with.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from api.resumable import OFFSET_STREAM, TUS_VERSION
from api.schema import problems

HEADER = OpenApiParameter.HEADER

# A header value that is a count of bytes (tus sends numbers as decimal digits).
_BYTES = {"type": "integer", "minimum": 0}


TUS_RESUMABLE = OpenApiParameter(
    "Tus-Resumable",
    str,
    HEADER,
    required=True,
    enum=[TUS_VERSION],
    description="The protocol version the client speaks; another is a 412.",
)

# Headers of the answers. `Tus-Resumable` is on every answer of these calls, errors included;
# a 412 also names the versions the server speaks.
ANSWERED_VERSION = OpenApiParameter(
    "Tus-Resumable", str, HEADER, response=True, description="`1.0.0`"
)
SPOKEN_VERSIONS = OpenApiParameter(
    "Tus-Version", str, HEADER, response=[412], description="The versions spoken: `1.0.0`."
)
_UPLOAD_STATE = [
    OpenApiParameter(
        "Upload-Offset", _BYTES, HEADER, description="How many bytes the server holds."
    ),
    OpenApiParameter("Upload-Length", _BYTES, HEADER, description="The declared length."),
    OpenApiParameter(
        "Upload-Expires",
        str,
        HEADER,
        description="When the upload expires unless finished (an HTTP date).",
    ),
]
_FILED = [
    OpenApiParameter(
        "Edms-Document-Id",
        OpenApiTypes.UUID,
        HEADER,
        description="Once complete and filed: the document the upload became.",
    ),
    OpenApiParameter(
        "Edms-Version", int, HEADER, description="Once complete and filed: its version number."
    ),
    OpenApiParameter(
        "Content-Location",
        str,
        HEADER,
        description="Once complete and filed: `/api/v1/documents/{id}`.",
    ),
]


def _answered(status: int, headers: list[OpenApiParameter]) -> list[OpenApiParameter]:
    """`headers` as answer headers of `status` only."""
    return [
        OpenApiParameter(h.name, h.type, HEADER, response=[status], description=h.description)
        for h in headers
    ]


OPTIONS = {
    "summary": "What the tus server speaks (version, extensions, size limit, checksums)",
    "parameters": [
        ANSWERED_VERSION,
        *_answered(
            204,
            [
                OpenApiParameter("Tus-Version", str, HEADER, description="`1.0.0`"),
                OpenApiParameter(
                    "Tus-Extension",
                    str,
                    HEADER,
                    description="`creation,checksum,expiration,termination`",
                ),
                OpenApiParameter(
                    "Tus-Max-Size", _BYTES, HEADER, description="The largest upload accepted."
                ),
                OpenApiParameter(
                    "Tus-Checksum-Algorithm",
                    str,
                    HEADER,
                    description="The `Upload-Checksum` algorithms: `sha256,sha1`.",
                ),
            ],
        ),
    ],
    "request": None,
    "responses": {204: OpenApiResponse(description="The protocol's capabilities, in headers")},
}

CREATE = {
    "summary": "Open a resumable upload (tus creation)",
    "description": (
        "Declares the upload: its length and, in `Upload-Metadata`, its target — `dossier` (file "
        "number) and `type` (document type) for a new document, or `document` (its id) for its "
        "next version — with `filename`, `filetype` (media type) and optionally `sha256` (hex) "
        "of the whole content. A wrong target, role or length is refused here, before any byte "
        "is sent. Then send the bytes with PATCH to `Location`."
    ),
    "parameters": [
        TUS_RESUMABLE,
        SPOKEN_VERSIONS,
        OpenApiParameter(
            "Upload-Length",
            _BYTES,
            HEADER,
            required=True,
            description="The upload's size in bytes, at most `Tus-Max-Size`.",
        ),
        OpenApiParameter(
            "Upload-Metadata",
            str,
            HEADER,
            required=True,
            description=(
                "Comma-separated `key base64(value)` pairs: `filename`, `filetype`, `dossier` "
                "and `type`, or `document`, and optionally `sha256`."
            ),
        ),
        ANSWERED_VERSION,
        *_answered(
            201,
            [
                OpenApiParameter(
                    "Location", str, HEADER, description="`/api/v1/uploads/{upload_id}`"
                ),
                *_UPLOAD_STATE,
            ],
        ),
    ],
    "request": None,
    "responses": {
        201: OpenApiResponse(description="The upload is open: send its bytes to `Location`"),
        # 404: the target dossier or document; 409: a cancelled document takes no version.
        **problems(404, 409, 412, 413),
    },
}

STATUS = {
    "summary": "Where a resumable upload stands (tus HEAD)",
    "description": (
        "`Upload-Offset` says how many bytes arrived: resume from there. A completed upload "
        "also names the document it became (`Edms-Document-Id`, `Edms-Version`), or answers the "
        "problem that refused its content (422 `digest-mismatch`), until it expires."
    ),
    "parameters": [
        TUS_RESUMABLE,
        SPOKEN_VERSIONS,
        ANSWERED_VERSION,
        *_answered(200, [*_UPLOAD_STATE, *_FILED]),
    ],
    "request": None,
    "responses": {
        200: OpenApiResponse(description="The upload's state, in headers"),
        # A completed upload whose content was refused answers that refusal again.
        **problems(403, 409, 410, 412, 422, 503),
    },
}

APPEND = {
    "summary": "Send bytes of a resumable upload at its offset (tus PATCH)",
    "description": (
        "The chunk is appended at `Upload-Offset`, which must be where the upload stands (else "
        "409 with `offset`). With `Upload-Checksum` it counts only if it matches (else 460, and "
        "nothing of it is kept); without one, what arrived before a broken connection is kept. "
        "With the last byte the content is filed — a new document or the next version — and "
        "checked against the declared `sha256` (422 `digest-mismatch`: nothing stored)."
    ),
    "parameters": [
        TUS_RESUMABLE,
        SPOKEN_VERSIONS,
        OpenApiParameter(
            "Upload-Offset",
            _BYTES,
            HEADER,
            required=True,
            description="Where this chunk starts: the `Upload-Offset` the server answered.",
        ),
        OpenApiParameter(
            "Upload-Checksum",
            str,
            HEADER,
            description="`sha256 <base64 digest>` (or `sha1 …`) of this chunk.",
        ),
        ANSWERED_VERSION,
        *_answered(204, [*_UPLOAD_STATE, *_FILED]),
    ],
    "request": {OFFSET_STREAM: OpenApiTypes.BINARY},
    "responses": {
        204: OpenApiResponse(
            description="Appended: the new `Upload-Offset` (and, if complete, "
            "the document filed), in headers"
        ),
        **problems(409, 410, 412, 422, 460, 503),
    },
}

TERMINATE = {
    "summary": "Abandon a resumable upload (tus termination)",
    "description": (
        "The upload and the bytes it holds are deleted; for a completed upload only the record "
        "of its outcome goes (the document stays)."
    ),
    "parameters": [TUS_RESUMABLE, SPOKEN_VERSIONS, ANSWERED_VERSION],
    "request": None,
    "responses": {204: OpenApiResponse(description="Deleted"), **problems(410, 412)},
}
