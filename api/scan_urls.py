"""Routes of the digitization endpoints (included by `api.urls`)."""

from django.urls import path, re_path

from api.views import scanning

scan_urlpatterns = [
    re_path(
        r"^paper-locations/(?P<key>.+)$",
        scanning.PaperLocationView.as_view(),
        name="paper-location",
    ),
    path("cover-sheets", scanning.CoverSheetsView.as_view(), name="cover-sheets"),
    path("scan-batches", scanning.ScanBatchListView.as_view(), name="scan-batch-list"),
    path("scan-batches/stats", scanning.ScanStatsView.as_view(), name="scan-stats"),
    path(
        "scan-batches/<uuid:batch_id>",
        scanning.ScanBatchDetailView.as_view(),
        name="scan-batch-detail",
    ),
    path("scan-parts/<uuid:part_id>", scanning.ScanPartView.as_view(), name="scan-part"),
    path(
        "scan-parts/<uuid:part_id>/content",
        scanning.ScanPartContentView.as_view(),
        name="scan-part-content",
    ),
    path(
        "scan-parts/<uuid:part_id>/<slug:operation>",
        scanning.ScanPartOperationView.as_view(),
        name="scan-part-operation",
    ),
]
