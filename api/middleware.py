"""Request ids: taken from `X-Request-ID` when the caller sends a sane one, else generated."""

from __future__ import annotations

import re
import uuid

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def client_address(request) -> str | None:
    # REMOTE_ADDR is what the socket saw; behind a proxy, configure the proxy to set it.
    return request.META.get("REMOTE_ADDR") or None
