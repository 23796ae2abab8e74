"""Request ids: taken from `X-Request-ID` when the caller sends a sane one, else generated, and
bound for the request's log lines with its actor and the dossier or document its URL names
(`dossier.log_context`).

The same middleware refuses, before any view runs, requests no view could answer well: chunked
bodies without a length, and URLs holding a NUL character. `LaneMiddleware` runs a request in
the lane its caller names (`Edms-Lane: bulk`)."""

from __future__ import annotations

import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from api.problems import problem_response
from dossier import lanes, log_context

LANE_HEADER = "Edms-Lane"

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        # A fresh set of log fields for this request (the thread may have served another
        # before). They stay bound past this middleware: Django logs a 4xx answer after the
        # middleware chain returned it; `request_finished` drops them (`_forget_request`).
        log_context.replace(request_id=request.request_id)
        if _is_chunked_without_length(request):
            response = problem_response(
                request,
                "length-required",
                "chunked request bodies are not supported; send a Content-Length",
                field="Content-Length",
            )
        elif _has_nul_character(request):
            response = problem_response(
                request,
                "validation-error",
                "the URL contains a NUL character (%00), which no field may hold",
            )
        else:
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


@receiver(request_finished, dispatch_uid="api.middleware.forget_request_log_fields")
def _forget_request(**_) -> None:
    """The answer is sent: the thread's next log lines are about nothing of this request."""
    log_context.replace()


# URL arguments that name what a request works on, and the log field each goes into.
_URL_LOG_FIELDS = {"key": "dossier_key", "document_id": "document_id"}


class LogContextMiddleware:
    """Binds the signed-in user (a session's; API keys are bound by `api.authentication`) and
    the dossier or document the URL names for the request's log lines. Placed after Django's
    AuthenticationMiddleware; the fields are dropped when the request ends (`_forget_request`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            log_context.bind(actor=user.get_username())
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> None:
        named = {
            field: str(view_kwargs[name])
            for name, field in _URL_LOG_FIELDS.items()
            if name in view_kwargs
        }
        if named:
            log_context.bind(**named)


class LaneMiddleware:
    """Run the request in the lane named by its `Edms-Lane` header (default: interactive).

    An importer sends `Edms-Lane: bulk` with each request of a backfile, so that the work it
    causes queues behind what people file one at a time (see `dossier.lanes`). A value that
    names no lane is refused (400) rather than guessed. The answer repeats the header when it
    was sent, so a client can tell that no proxy dropped it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        named = request.headers.get(LANE_HEADER)
        if named is None:
            return self.get_response(request)
        try:
            lane = lanes.parse(named)
        except ValueError as exc:
            return problem_response(request, "validation-error", str(exc), field=LANE_HEADER)
        with lanes.using(lane):
            response = self.get_response(request)
        response[LANE_HEADER] = lane.value
        return response


def _is_chunked_without_length(request) -> bool:
    # Django reads exactly CONTENT_LENGTH bytes: a chunked body would arrive as an empty one
    # and the caller would be told "no file was submitted", which misleads.
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH")


def _has_nul_character(request) -> bool:
    # PostgreSQL cannot store U+0000 in text, so it would fail deep inside a query as a 500;
    # no file number, filter or search holds one (DRF's CharField refuses it in bodies).
    if "\x00" in request.path_info:
        return True
    return any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )
