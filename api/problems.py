"""Every API error is an RFC 9457 problem: `application/problem+json` with a stable `type`.

The catalogue below is the contract: integrators switch on `type`, people read `detail`, and
`field` names the offending input. `GET /api/v1/problems/<slug>` describes each type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from dossier.access import NotFound
from dossier.actions import (
    ContentExpunged,
    DigestMismatch,
    DocumentCancelledError,
    DomainError,
    InvalidChange,
    LegalHoldActive,
    ViewerLinkExpired,
    ViewerLinkInvalid,
)
from dossier.blobstore import BlobMissing, EmptyContent, StorageUnavailable, UploadTooLarge
from dossier.numbering import InvalidFileNumber

log = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        return f"/api/v1/problems/{self.slug}"


_TYPES = [
    ProblemType("validation-error", "The request has invalid fields", 400),
    ProblemType("invalid-json", "The request body is not valid JSON", 400),
    ProblemType("malformed-file-number", "The file number is malformed", 400),
    ProblemType("unknown-document-type", "The document type is unknown", 400),
    ProblemType("empty-file", "The file is empty", 400),
    ProblemType("bad-image", "The file is not an image that can be compared", 400),
    ProblemType("invalid-change", "The change is not allowed", 400),
    ProblemType("invalid-query", "The search query is malformed", 400),
    ProblemType("bad-request", "The request is malformed", 400),
    ProblemType("too-many-fields", "The request has too many fields or files", 400),
    ProblemType("not-authenticated", "Credentials are missing", 401),
    ProblemType("authentication-failed", "The credentials are wrong", 401),
    ProblemType("forbidden", "The caller's role does not allow this", 403),
    ProblemType("viewer-link-invalid", "The viewer link is not valid for this document", 403),
    ProblemType("upload-link-invalid", "The upload part URL is not valid", 403),
    ProblemType("unknown-dossier", "No such dossier", 404),
    ProblemType("unknown-document", "No such document", 404),
    ProblemType("unknown-version", "No such version", 404),
    ProblemType("not-found", "Nothing here", 404),
    ProblemType("unknown-upload", "No such upload", 404),
    ProblemType("text-not-available", "The version's text is not extracted (yet)", 404),
    ProblemType("unknown-rendition", "The version has no such rendition (yet)", 404),
    ProblemType("no-redacted-copy", "The version has no redacted copy", 404),
    ProblemType("method-not-allowed", "The method is not allowed here", 405),
    ProblemType("not-acceptable", "No acceptable representation", 406),
    ProblemType("idempotency-conflict", "A request with this Idempotency-Key is in progress", 409),
    ProblemType("document-cancelled", "The document is cancelled", 409),
    ProblemType("legal-hold", "A legal hold keeps the document", 409),
    ProblemType("processing-in-progress", "The version is being processed right now", 409),
    ProblemType("delivery-in-progress", "The webhook delivery is being sent right now", 409),
    ProblemType("upload-offset-mismatch", "Upload-Offset is not where the upload stands", 409),
    ProblemType("upload-incomplete", "Parts of the upload have not arrived", 409),
    ProblemType("upload-closed", "The upload is being committed or is committed", 409),
    ProblemType("content-expunged", "The content was expunged", 410),
    ProblemType("upload-expired", "The upload has expired", 410),
    ProblemType("viewer-link-expired", "The viewer link has expired", 410),
    ProblemType("length-required", "Send the body with a Content-Length", 411),
    ProblemType("tus-version-unsupported", "Send Tus-Resumable: 1.0.0", 412),
    ProblemType("file-too-large", "The file exceeds the size limit", 413),
    ProblemType("request-too-large", "The request body exceeds the size limit", 413),
    ProblemType("request-line-too-long", "The request line (URL) is too long", 414),
    ProblemType("unsupported-media-type", "The content type is not accepted here", 415),
    ProblemType("range-not-satisfiable", "The requested range is outside the content", 416),
    ProblemType("digest-mismatch", "The content does not match the digest sent", 422),
    ProblemType("idempotency-key-reused", "The Idempotency-Key was used for another request", 422),
    ProblemType("throttled", "Too many requests", 429),
    ProblemType("request-headers-too-large", "The request's headers are too large", 431),
    # tus checksum extension: the chunk does not match its Upload-Checksum (nothing appended).
    ProblemType("checksum-mismatch", "The chunk does not match its Upload-Checksum", 460),
    ProblemType("server-error", "Internal error", 500),
    ProblemType("content-unavailable", "The stored content cannot be read", 503),
    ProblemType("search-unavailable", "The search engine cannot answer right now", 503),
    ProblemType("storage-unavailable", "The blob storage cannot be used right now", 503),
    ProblemType("not-ready", "A service edms needs does not answer", 503),
]
PROBLEM_TYPES = {t.slug: t for t in _TYPES}


class Problem(exceptions.APIException):
    """Raise from a view to answer with a problem of the catalogue."""

    def __init__(self, slug: str, detail: str, *, field: str | None = None, extra=None):
        self.problem = PROBLEM_TYPES[slug]
        self.status_code = self.problem.status
        self.field = field
        self.extra = extra or {}
        super().__init__(detail)


def problem_body(slug: str, detail: str, *, field=None, request=None, extra=None) -> dict:
    kind = PROBLEM_TYPES[slug]
    body = {"type": kind.uri, "title": kind.title, "status": kind.status, "detail": detail}
    if field:
        body["field"] = field
    if request is not None:
        body["instance"] = request.path
        request_id = getattr(request, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    if extra:
        body.update(extra)
    return body


def _from_exception(exc) -> tuple[str, str, str | None, dict]:
    """(slug, detail, field, extra) for any exception a view may raise."""
    if isinstance(exc, Problem):
        return exc.problem.slug, str(exc.detail), exc.field, exc.extra
    if isinstance(exc, InvalidFileNumber):
        return "malformed-file-number", str(exc), "key", {}
    if isinstance(exc, NotFound):
        slug = {"dossier": "unknown-dossier", "document": "unknown-document"}.get(
            exc.kind, "not-found"
        )
        return slug, str(exc), None, {}
    if isinstance(exc, UploadTooLarge):
        return "file-too-large", str(exc), "file", {"limit": exc.limit}
    if isinstance(exc, RequestDataTooBig):
        # JSON bodies and form fields other than files are read into memory: bounded by
        # DATA_UPLOAD_MAX_MEMORY_SIZE. Files stream to the spool under EDMS_MAX_UPLOAD_SIZE.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"the request body (other than files) exceeds {limit} bytes"
        return "request-too-large", detail, None, {"limit": limit}
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        detail = f"the request has more than {limit} fields"
        return "too-many-fields", detail, None, {"limit": limit}
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return "too-many-fields", f"the request has more than {limit} files", None, {"limit": limit}
    if isinstance(exc, EmptyContent):
        return "empty-file", "the file is empty (0 bytes)", "file", {}
    if isinstance(exc, BlobMissing):
        return (
            "content-unavailable",
            "the stored content is missing; an operator is needed",
            None,
            {},
        )
    if isinstance(exc, StorageUnavailable):
        return "storage-unavailable", storage_unavailable_detail(exc), None, {}
    if isinstance(exc, DigestMismatch):
        return "digest-mismatch", str(exc), exc.field, {}
    if isinstance(exc, ContentExpunged):
        return "content-expunged", str(exc), exc.field, {}
    if isinstance(exc, LegalHoldActive):
        return "legal-hold", str(exc), None, {}
    if isinstance(exc, DocumentCancelledError):
        return "document-cancelled", str(exc), exc.field, {}
    if isinstance(exc, ViewerLinkInvalid | ViewerLinkExpired):
        return exc.code, str(exc), None, {}
    if isinstance(exc, InvalidChange | DomainError):
        return "invalid-change", str(exc), exc.field, {}
    if isinstance(exc, exceptions.ValidationError):
        field, detail, errors = _flatten_validation(exc.detail)
        return "validation-error", detail, field, {"errors": errors}
    if isinstance(exc, exceptions.ParseError):
        return "invalid-json", str(exc.detail), None, {}
    if isinstance(exc, exceptions.NotAuthenticated):
        return "not-authenticated", str(exc.detail), None, {}
    if isinstance(exc, exceptions.AuthenticationFailed):
        return "authentication-failed", str(exc.detail), None, {}
    if isinstance(exc, exceptions.PermissionDenied):
        return "forbidden", str(exc.detail), None, {}
    if isinstance(exc, exceptions.NotFound):
        return "not-found", str(exc.detail), None, {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "method-not-allowed", str(exc.detail), None, {}
    if isinstance(exc, exceptions.NotAcceptable):
        return "not-acceptable", str(exc.detail), None, {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return "unsupported-media-type", str(exc.detail), None, {}
    if isinstance(exc, exceptions.Throttled):
        return "throttled", str(exc.detail), None, {}
    return "server-error", "an internal error occurred; it has been logged", None, {}


def storage_unavailable_detail(exc: StorageUnavailable) -> str:
    # Logged once, with boto's reason, where it happened (dossier.blobs_s3): not again here.
    return f"{exc}; nothing was stored or read, an operator is needed"


def problem_for(exc: Exception) -> Problem:
    """The `Problem` any exception answers as (a server error for one not in the catalogue)."""
    if isinstance(exc, Problem):
        return exc
    slug, detail, field, extra = _from_exception(exc)
    return Problem(slug, detail, field=field, extra=extra)


def _flatten_validation(detail, prefix: str = "") -> tuple[str | None, str, list[dict]]:
    errors: list[dict] = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif (
            isinstance(node, list)
            and node
            and not isinstance(node[0], str | exceptions.ErrorDetail)
        ):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, list):
            for message in node:
                errors.append({"field": path or None, "detail": str(message)})
        else:
            errors.append({"field": path or None, "detail": str(node)})

    walk(detail, prefix)
    first = errors[0] if errors else {"field": None, "detail": "invalid request"}
    field = first["field"] if first["field"] != "non_field_errors" else None
    text = f"{field}: {first['detail']}" if field else first["detail"]
    return field, text, errors


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error leaves as a problem document."""
    request = context.get("request")
    slug, detail, field, extra = _from_exception(exc)
    if slug == "server-error":
        log.exception("unhandled error in %s", request.path if request else "?", exc_info=exc)
    body = problem_body(slug, detail, field=field, request=request, extra=extra)
    if request is not None:
        # Errors are JSON whatever renderer the client negotiated (the browsable API included).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    response = Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    if slug in ("not-authenticated", "authentication-failed"):
        response["WWW-Authenticate"] = 'Bearer realm="edms"'
    return response


def problem_for_exception(request, exc) -> JsonResponse:
    """The problem answer for an exception raised outside a DRF view (Django's 400 handler)."""
    slug, detail, field, extra = _from_exception(exc)
    if slug == "server-error":
        slug, detail = "bad-request", "the request is malformed"
    return problem_response(request, slug, detail, field=field, extra=extra)


def problem_response(request, slug: str, detail: str, **kwargs) -> JsonResponse:
    """A problem answer outside DRF views (Django's 404/500 handlers, middleware)."""
    body = problem_body(slug, detail, request=request, **kwargs)
    return JsonResponse(
        body,
        status=body["status"],
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
