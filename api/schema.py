"""How the OpenAPI document describes the API's answers, so that it says what the API really does.

- Errors are problem documents (`application/problem+json`, one `Problem` schema).
- Every operation lists the error statuses it really returns. Those that follow from the
  operation's shape are added here, for every operation alike (`ProblemAutoSchema`): a NUL
  character in the URL (400), a wrong API key (401), rate limits (429), content negotiation
  (406), CSRF for session callers of unsafe methods (403), a request body (400, 411, 413, 415),
  `Idempotency-Key` (400, 409, 422), path parameters (404). The rest each view names with
  `problems(...)`.
- Every write operation (POST, PUT, PATCH, DELETE) documents the `Edms-Lane` header, with which
  an importer marks its requests as bulk work (`api.middleware.LaneMiddleware`).
- Downloads declare the media types they really send: stored content is answered with the media
  type it was detected as, so its operations declare `*/*` (see `content_responses`).
- HEAD and OPTIONS are documented where a view answers them itself (the tus calls of
  `/api/v1/uploads`), not where Django and DRF answer them alike for every view
  (`SchemaGenerator`).
"""

from __future__ import annotations

from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.generators import SchemaGenerator as SpectacularGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from api.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from dossier.lanes import Lane

ANY_MEDIA_TYPE = "*/*"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

PROBLEM = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(help_text="URI of the problem type (stable: switch on it)."),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "field": serializers.CharField(required=False, help_text="The offending input."),
        "instance": serializers.CharField(required=False),
        "request_id": serializers.CharField(required=False),
        "errors": serializers.ListField(child=serializers.DictField(), required=False),
    },
)


def _problem_response(status: int) -> OpenApiResponse:
    kinds = [kind for kind in PROBLEM_TYPES.values() if kind.status == status]
    description = "; ".join(f"`{kind.slug}`: {kind.title}" for kind in kinds)
    return OpenApiResponse(PROBLEM, description=description or "A problem document")


def problems(*statuses: int) -> dict:
    """`responses` entries for problem documents of the given statuses (for `extend_schema`)."""
    return {(status, PROBLEM_CONTENT_TYPE): _problem_response(status) for status in statuses}


# Lists paginated by `api.pagination.PagePagination` (a page past the end is a 404).
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Items per page (default 50, at most 500)."),
]

CONTENT_HEADERS = [
    OpenApiParameter(
        "Range",
        str,
        OpenApiParameter.HEADER,
        description="One byte range (`bytes=0-1023`, `bytes=-500`): answered with 206.",
    ),
    OpenApiParameter(
        "If-Range", str, OpenApiParameter.HEADER, description="The ETag the range belongs to."
    ),
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description="ETags you hold (the SHA-256, quoted): 304 when one matches.",
    ),
]

# Writes that take `Idempotency-Key` (`api.idempotency.IdempotentMixin`).
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes the request safe to retry: a retry replays the first response.",
)


LANE_PARAMETER = OpenApiParameter(
    "Edms-Lane",
    str,
    OpenApiParameter.HEADER,
    enum=[lane.value for lane in Lane],
    description=(
        "`bulk` for requests of a batch (a backfile import, a migration): the processing they "
        "cause queues behind interactive work, so people filing one document at a time never "
        "wait for a batch. Default `interactive`. Another value is refused (400, "
        "`validation-error`). The answer repeats the header."
    ),
)


def content_responses(*media_types: str) -> dict:
    """`responses` of a download of stored bytes (`api.content.blob_response`): the whole
    content or one range, in `media_types` (default: any, as detected when it was stored), a
    304 for a matching ETag, 416 for a range outside it, 503 when it cannot be read."""
    declared = media_types or (ANY_MEDIA_TYPE,)
    responses: dict = {}
    for status, description in ((200, "The content"), (206, "The requested byte range")):
        for media_type in declared:
            responses[(status, media_type)] = OpenApiResponse(
                OpenApiTypes.BINARY, description=description
            )
    responses[304] = OpenApiResponse(description="Not modified: an ETag of If-None-Match matched")
    return {**responses, **problems(404, 416, 503)}


class ProtocolEndpointEnumerator(EndpointEnumerator):
    """drf-spectacular's endpoints, with HEAD and OPTIONS where the view answers them itself.

    drf-spectacular leaves both out everywhere: Django answers HEAD as GET without a body, and
    DRF answers OPTIONS with the view's metadata, for every view alike. A view that defines
    `head` or its own `options` means something by them (tus: where an upload stands, what the
    server speaks), so those are operations of their own.
    """

    def get_allowed_methods(self, callback) -> list[str]:
        methods = super().get_allowed_methods(callback)
        view = getattr(callback, "cls", None)
        if view is None or hasattr(callback, "actions"):
            return methods
        if hasattr(view, "head"):  # Django's own HEAD is set on the instance, never the class
            methods.append("HEAD")
        if getattr(view, "options", APIView.options) is not APIView.options:
            methods.append("OPTIONS")
        return methods


class SchemaGenerator(SpectacularGenerator):
    """`SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]`: see `ProtocolEndpointEnumerator`."""

    endpoint_inspector_cls = ProtocolEndpointEnumerator


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the error statuses implied by an operation's shape
    (and the `Edms-Lane` header of write operations)."""

    # Operation ids of the HEAD and OPTIONS operations `ProtocolEndpointEnumerator` adds.
    method_mapping = {**AutoSchema.method_mapping, "head": "head", "options": "options"}

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method in UNSAFE_METHODS:
            parameters = [*parameters, LANE_PARAMETER]
        return parameters

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in sorted(self._implied_problem_statuses(operation)):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    _problem_response(status), str(status), [PROBLEM_CONTENT_TYPE]
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _implied_problem_statuses(self, operation: dict) -> set[int]:
        # Any call may carry a NUL character in its URL (api.middleware), a wrong or revoked
        # API key, and be refused by a rate limit.
        statuses = {400, 401, 429}
        if issubclass(self.view.content_negotiation_class, DefaultContentNegotiation):
            statuses.add(406)  # DRF refuses an Accept header none of its renderers satisfies
        if self.method in UNSAFE_METHODS:
            statuses.add(403)  # a session caller without a CSRF token
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        if any(location == "path" for location, _ in parameters):
            statuses.add(404)
        if ("header", "Idempotency-Key") in parameters:
            statuses |= {400, 409, 422}  # too long; still in progress; reused for another body
        if "requestBody" in operation:
            statuses |= {400, 411, 413}
            if not self._accepts_any_media_type():
                statuses.add(415)
        return statuses

    def _accepts_any_media_type(self) -> bool:
        return any(parser.media_type == ANY_MEDIA_TYPE for parser in self.view.get_parsers() or [])
