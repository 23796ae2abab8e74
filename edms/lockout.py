"""The answer to a locked-out sign-in or API key (django-axes' AXES_LOCKOUT_CALLABLE).

Under the API a `throttled` problem, elsewhere (the UI's and the admin's sign-in pages) a page a
person can read; both 429 with `Retry-After`. Wired here because it joins the API's problems and
the UI's templates, which do not import each other.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from api.problems import problem_response


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, seconds // 60)
    if request.path.startswith("/api/"):
        response = problem_response(
            request,
            "throttled",
            f"too many failed attempts from this address or for this account; "
            f"try again in {minutes} minutes",
        )
    else:
        response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    return response
