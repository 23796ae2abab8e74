from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from frontend import views

app_name = "frontend"

urlpatterns = [
    path("", views.dossier_list, name="home"),
    path("go", views.go_to_dossier, name="go"),
    path("search", views.search, name="search"),
    path(
        "login",
        auth_views.LoginView.as_view(template_name="frontend/login.html"),
        name="login",
    ),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("documents/<uuid:document_id>", views.viewer, name="viewer"),
    path("documents/<uuid:document_id>/state", views.document_state, name="document-state"),
    path("operations", views.operations, name="operations"),
    path(
        "operations/retry/<uuid:document_id>/<int:number>",
        views.retry_processing,
        name="retry",
    ),
    # File numbers keep their slashes (BG/P/2024/000123), as in the API.
    re_path(r"^dossiers/(?P<key>.+)/zip$", views.download_zip, name="dossier-zip"),
    re_path(r"^dossiers/(?P<key>.+)$", views.dossier_detail, name="dossier"),
]
