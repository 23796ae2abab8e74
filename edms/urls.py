from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.defaults import bad_request, page_not_found, server_error
from django.views.generic import RedirectView

from api.problems import problem_for_exception, problem_response
from edms.readiness import run_checks
from metrics.exposition import metrics_view


def health(request):
    """Liveness: the process answers. Checks nothing else, so that a database outage does not
    make a supervisor restart every node (readiness, below, is what takes a node out)."""
    return JsonResponse({"status": "ok"})


def ready(request):
    """Readiness: 200 when every service edms needs answers in time, else a 503 problem; both
    list every check with its latency (edms.readiness)."""
    results = run_checks()
    checks = [result.as_dict() for result in results]
    failed = [result.name for result in results if not result.ok]
    if not failed:
        return JsonResponse({"status": "ready", "checks": checks})
    detail = f"not answering: {', '.join(failed)}"
    return problem_response(request, "not-ready", detail, extra={"checks": checks})


urlpatterns = [
    # The admin's pages of webhooks were under /admin/api/ until webhooks became an app of their
    # own (issue 13): links to them lead on.
    re_path(
        r"^admin/api/(?P<page>webhook(delivery)?/.*)$",
        RedirectView.as_view(url="/admin/webhooks/%(page)s", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("healthz", health),
    path("readyz", ready),
    path("metrics", metrics_view),  # Prometheus; EDMS_METRICS_TOKEN (metrics.exposition)
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the UI's language switcher
    path("", include("frontend.urls")),
]


def handler400(request, exception=None):
    # Django's answer to a request it refuses itself (too many fields, a body over the limit
    # read outside a DRF view): a problem under the API, its page elsewhere.
    if request.path.startswith("/api/"):
        return problem_for_exception(request, exception)
    return bad_request(request, exception)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return problem_response(request, "not-found", f"nothing at {request.path}")
    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return problem_response(request, "server-error", "an internal error occurred")
    return server_error(request)
