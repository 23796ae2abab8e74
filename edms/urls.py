from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found, server_error

from api.problems import problem_response


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("healthz", health),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the UI's language switcher
    path("", include("frontend.urls")),
]


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return problem_response(request, "not-found", f"nothing at {request.path}")
    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return problem_response(request, "server-error", "an internal error occurred")
    return server_error(request)
