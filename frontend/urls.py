from django.urls import path, re_path
from mozilla_django_oidc.views import OIDCLogoutView

from frontend import scanning, sso
from frontend.views import (
    case_events,
    compare,
    dossiers,
    duplicates,
    editing,
    expunge,
    favicon,
    marks,
    merged_pdf,
    operations,
    page_image,
    search,
    sign_in,
    versions,
    viewer,
    watch,
)

app_name = "frontend"

urlpatterns = [
    path("", dossiers.dossier_list, name="home"),
    path("go", dossiers.go_to_dossier, name="go"),
    path("search", search.search, name="search"),
    path("saved-searches", watch.save_search, name="saved-search-create"),
    path("saved-searches/<int:search_id>/delete", watch.delete_search, name="saved-search-delete"),
    path("notifications", watch.notifications, name="notifications"),
    path("notifications/read", watch.mark_read, name="notifications-read"),
    path(
        "notifications/<int:notification_id>/open",
        watch.open_notification,
        name="notification-open",
    ),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("login", sign_in.SignInView.as_view(), name="login"),
    # Signs out of edms, and of the provider for whom signed in there (frontend.sso).
    path("logout", OIDCLogoutView.as_view(), name="logout"),
    path("oidc/authenticate", sso.ProviderSignInView.as_view(), name="oidc-authenticate"),
    path("oidc/callback", sso.ProviderCallbackView.as_view(), name="oidc-callback"),
    path("documents/<uuid:document_id>", viewer.viewer, name="viewer"),
    path("documents/<uuid:document_id>/compare", compare.compare_view, name="compare"),
    path(
        "documents/<uuid:document_id>/compare/difference.png",
        compare.difference_image,
        name="compare-difference",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/pages/<int:page>.webp",
        page_image.page_image,
        name="page-image",
    ),
    path("documents/<uuid:document_id>/state", viewer.document_state, name="document-state"),
    path("documents/<uuid:document_id>/row", editing.document_row, name="document-row"),
    path("documents/<uuid:document_id>/edit", editing.edit_document, name="document-edit"),
    path("documents/<uuid:document_id>/move", editing.move_document, name="document-move"),
    path("documents/<uuid:document_id>/cancel", editing.cancel_document, name="document-cancel"),
    path(
        "documents/<uuid:document_id>/versions/add",
        editing.add_version,
        name="version-add",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/restore",
        versions.restore_version,
        name="version-restore",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/expunge",
        expunge.expunge_version,
        name="version-expunge",
    ),
    path(
        "documents/<uuid:document_id>/expunge",
        expunge.expunge_document,
        name="document-expunge",
    ),
    path("operations", operations.operations, name="operations"),
    path("duplicates", duplicates.duplicates, name="duplicates"),
    path("marks/similar", marks.similar_marks, name="similar-marks"),
    path("duplicates/<int:flag_id>/review", duplicates.review_duplicate, name="review-duplicate"),
    path(
        "operations/retry/<uuid:document_id>/<int:number>",
        operations.retry_processing,
        name="retry",
    ),
    path("scanning", scanning.dashboard, name="scanning"),
    path("scanning/batches", scanning.submit_batch, name="scan-submit"),
    path("scanning/batches/<uuid:batch_id>", scanning.batch_detail, name="scan-batch"),
    path("scanning/qc", scanning.qc_queue, name="scan-queue"),
    path("scanning/parts/<uuid:part_id>", scanning.part_detail, name="scan-part"),
    path(
        "scanning/parts/<uuid:part_id>/pages/<int:number>",
        scanning.part_page,
        name="scan-part-page",
    ),
    path(
        "scanning/parts/<uuid:part_id>/<slug:operation>",
        scanning.part_operation,
        name="scan-part-operation",
    ),
    path("scanning/cover-sheets", scanning.cover_sheets, name="cover-sheets"),
    # File numbers keep their slashes (BG/P/2024/000123), as in the API.
    re_path(r"^dossiers/(?P<key>.+)/zip$", dossiers.download_zip, name="dossier-zip"),
    re_path(
        r"^dossiers/(?P<key>.+)/merged\.pdf$",
        merged_pdf.download_merged_pdf,
        name="dossier-merged-pdf",
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/paper-location$", dossiers.paper_location, name="paper-location"
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/case-events$",
        case_events.record_case_event,
        name="case-event-record",
    ),
    re_path(r"^dossiers/(?P<key>.+)/compare$", compare.compare_selected, name="dossier-compare"),
    re_path(r"^dossiers/(?P<key>.+)/watch$", watch.watch_dossier, name="dossier-watch"),
    re_path(r"^dossiers/(?P<key>.+)$", dossiers.dossier_detail, name="dossier"),
]
