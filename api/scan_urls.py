"""Routes of the digitization endpoints (included by `api.urls`)."""

from django.urls import path, re_path

from api import scan_views

scan_urlpatterns = [
    re_path(
        r"^paper-locations/(?P<key>.+)$",
        scan_views.PaperLocationView.as_view(),
        name="paper-location",
    ),
    path("cover-sheets", scan_views.CoverSheetsView.as_view(), name="cover-sheets"),
    path("scan-batches", scan_views.ScanBatchListView.as_view(), name="scan-batch-list"),
    path("scan-batches/stats", scan_views.ScanStatsView.as_view(), name="scan-stats"),
    path(
        "scan-batches/<uuid:batch_id>",
        scan_views.ScanBatchDetailView.as_view(),
        name="scan-batch-detail",
    ),
    path("scan-parts/<uuid:part_id>", scan_views.ScanPartView.as_view(), name="scan-part"),
    path(
        "scan-parts/<uuid:part_id>/content",
        scan_views.ScanPartContentView.as_view(),
        name="scan-part-content",
    ),
    path(
        "scan-parts/<uuid:part_id>/<slug:operation>",
        scan_views.ScanPartOperationView.as_view(),
        name="scan-part-operation",
    ),
]
