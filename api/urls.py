from django.urls import path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from api.case_urls import case_urlpatterns, citation_urlpatterns
from api.das_urls import das_urlpatterns
from api.scan_urls import scan_urlpatterns
from api.schema_view import SchemaView
from api.views import (
    annotations,
    audit,
    case_events,
    documents,
    dossiers,
    duplicates,
    events,
    exports,
    marks,
    problems,
    redaction,
    retention,
    search,
    similarity,
    upload_sessions,
    uploads,
    uspto_odp,
    versions,
    viewer_links,
)
from api.watch_urls import watch_urlpatterns
from api.webhook_urls import webhook_urlpatterns

app_name = "api"

urlpatterns = [
    path("dossiers", dossiers.DossierListView.as_view(), name="dossier-list"),
    # File numbers keep their slashes (BG/P/2024/000123); %2F-encoded forms decode to the same.
    re_path(
        r"^dossiers/(?P<key>.+)/documents$",
        dossiers.DossierDocumentsView.as_view(),
        name="dossier-documents",
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/legal-holds$",
        retention.DossierLegalHoldsView.as_view(),
        name="dossier-legal-holds",
    ),
    path(
        "legal-holds/<uuid:hold_id>/release",
        retention.LegalHoldReleaseView.as_view(),
        name="legal-hold-release",
    ),
    path("disposition", retention.DispositionQueueView.as_view(), name="disposition-queue"),
    path("duplicates", duplicates.DuplicateFlagListView.as_view(), name="duplicate-flags"),
    path("marks/similar", marks.SimilarMarksView.as_view(), name="marks-similar"),
    path(
        "duplicates/<int:flag_id>/review",
        duplicates.DuplicateFlagReviewView.as_view(),
        name="duplicate-flag-review",
    ),
    path(
        "disposition/approve",
        retention.DispositionApprovalView.as_view(),
        name="disposition-approve",
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/case-events$",
        case_events.DossierCaseEventsView.as_view(),
        name="dossier-case-events",
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/audit$",
        audit.DossierAuditView.as_view(),
        name="dossier-audit",
    ),
    re_path(
        r"^dossiers/(?P<key>.+)/export$",
        dossiers.DossierExportView.as_view(),
        name="dossier-export",
    ),
    # Before the dossier itself, whose key pattern would take the suffix too.
    *citation_urlpatterns,
    *das_urlpatterns,  # before the dossier's own route, which takes any path under it
    re_path(r"^dossiers/(?P<key>.+)$", dossiers.DossierDetailView.as_view(), name="dossier-detail"),
    path(
        "documents/<uuid:document_id>",
        documents.DocumentDetailView.as_view(),
        name="document-detail",
    ),
    path(
        "documents/<uuid:document_id>/similar",
        similarity.DocumentSimilarView.as_view(),
        name="document-similar",
    ),
    path(
        "documents/<uuid:document_id>/expunge",
        documents.DocumentExpungeView.as_view(),
        name="document-expunge",
    ),
    path(
        "documents/<uuid:document_id>/cover-sheet",
        documents.DocumentCoverSheetView.as_view(),
        name="document-cover-sheet",
    ),
    path(
        "documents/<uuid:document_id>/paper-original",
        documents.PaperOriginalView.as_view(),
        name="document-paper-original",
    ),
    path(
        "documents/<uuid:document_id>/viewer-link",
        viewer_links.ViewerLinkView.as_view(),
        name="document-viewer-link",
    ),
    path(
        "documents/<uuid:document_id>/view",
        viewer_links.SignedViewView.as_view(),
        name="document-view",
    ),
    path(
        "documents/<uuid:document_id>/versions",
        versions.DocumentVersionsView.as_view(),
        name="document-versions",
    ),
    path(
        "documents/<uuid:document_id>/content",
        versions.ContentView.as_view(),
        name="document-content",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/content",
        versions.ContentView.as_view(),
        name="version-content",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/text",
        versions.VersionTextView.as_view(),
        name="version-text",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/reprocess",
        versions.VersionReprocessView.as_view(),
        name="version-reprocess",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/restore",
        versions.VersionRestoreView.as_view(),
        name="version-restore",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/redacted",
        redaction.RedactedCopyView.as_view(),
        name="version-redacted",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/renditions/<slug:kind>",
        versions.VersionRenditionView.as_view(),
        name="version-rendition",
    ),
    path(
        "documents/<uuid:document_id>/versions/<int:number>/annotations",
        annotations.VersionAnnotationsView.as_view(),
        name="version-annotations",
    ),
    path(
        "annotations/<uuid:annotation_id>",
        annotations.AnnotationDetailView.as_view(),
        name="annotation-detail",
    ),
    path(
        "ingest/capabilities", versions.IngestCapabilitiesView.as_view(), name="ingest-capabilities"
    ),
    path(
        "exports/publication-batch",
        exports.PublicationBatchView.as_view(),
        name="publication-batch",
    ),
    # Resumable uploads (tus 1.0): plain protocol calls, listed in the README.
    path("uploads", uploads.UploadCreateView.as_view(), name="upload-create"),
    path("uploads/<uuid:upload_id>", uploads.UploadDetailView.as_view(), name="upload-detail"),
    # Upload sessions: parts PUT to URLs of their own (pre-signed S3 URLs with blobs on S3).
    path(
        "upload-sessions",
        upload_sessions.UploadSessionListView.as_view(),
        name="upload-session-list",
    ),
    path(
        "upload-sessions/<uuid:session_id>",
        upload_sessions.UploadSessionDetailView.as_view(),
        name="upload-session-detail",
    ),
    path(
        "upload-sessions/<uuid:session_id>/commit",
        upload_sessions.UploadSessionCommitView.as_view(),
        name="upload-session-commit",
    ),
    path(
        "upload-sessions/<uuid:session_id>/parts/<int:number>",
        upload_sessions.UploadSessionPartView.as_view(),
        name="upload-session-part",
    ),
    # USPTO-shaped public reads (exchange.uspto_odp): where USPTO Open Data Portal clients look.
    # Application numbers may be edms file numbers, slashes and all.
    re_path(
        r"^patent/applications/(?P<applicationNumberText>.+)/documents$",
        uspto_odp.ApplicationDocumentsView.as_view(),
        name="uspto-documents",
    ),
    re_path(
        r"^download/applications/(?P<applicationNumberText>.+)/"
        r"(?P<documentIdentifier>[0-9A-Fa-f-]{36})\.pdf$",
        uspto_odp.ApplicationDocumentDownloadView.as_view(),
        name="uspto-download",
    ),
    path("events", events.EventFeedView.as_view(), name="events"),
    *webhook_urlpatterns,
    *watch_urlpatterns,
    *scan_urlpatterns,
    *case_urlpatterns,
    path("search", search.SearchView.as_view(), name="search"),
    path("search/status", search.SearchStatusView.as_view(), name="search-status"),
    path("search/similar", similarity.TextSimilarView.as_view(), name="search-similar"),
    path("problems/<slug:slug>", problems.ProblemTypeView.as_view(), name="problem-type"),
    path("schema", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the page needs no inline script.
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
