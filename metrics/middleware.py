"""Count and time every HTTP request by its route, the URL pattern it matched (bounded: a path
holds dossier keys and ids, a pattern does not)."""

from __future__ import annotations

import time

from django.conf import settings

from metrics.instruments import HTTP_DURATION, HTTP_REQUESTS


def route_of(request) -> str:
    """The URL pattern that answered (`/api/v1/dossiers/<str:key>`), `static` for the static
    files WhiteNoise serves before any URL is resolved, else `unmatched`."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route.lstrip("^").rstrip("$")
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """First in MIDDLEWARE: it times what every other middleware does too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route, status = route_of(request), str(response.status_code)
        HTTP_REQUESTS.labels(route=route, method=request.method, status=status).inc()
        HTTP_DURATION.labels(route=route, status=status).observe(time.perf_counter() - started)
        return response
