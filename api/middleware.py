"""Request ids: taken from `X-Request-ID` when the caller sends a sane one, else generated."""

from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings

from api.problems import problem_response

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        if _is_chunked_without_length(request):
            response = problem_response(
                request,
                "length-required",
                "chunked request bodies are not supported; send a Content-Length",
                field="Content-Length",
            )
        else:
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _is_chunked_without_length(request) -> bool:
    # Django reads exactly CONTENT_LENGTH bytes: a chunked body would arrive as an empty one
    # and the caller would be told "no file was submitted", which misleads.
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH")


def client_address(request) -> str | None:
    """The caller's address (audit trail, sign-in limits): what the socket saw, or behind a
    proxy (EDMS_BEHIND_PROXY) the address the proxy appended last to X-Forwarded-For. Earlier
    entries are whatever the client claimed, so they are never believed."""
    if settings.EDMS_BEHIND_PROXY:
        appended = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(appended))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None
