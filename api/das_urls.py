"""Routes of the WIPO DAS endpoints (included by `api.urls`)."""

from django.urls import path, re_path

from api.views import das

das_urlpatterns = [
    re_path(
        r"^dossiers/(?P<key>.+)/das-requests$",
        das.DossierDasRequestsView.as_view(),
        name="dossier-das-requests",
    ),
    path(
        "das-requests/<uuid:request_id>/withdrawal",
        das.DasWithdrawalView.as_view(),
        name="das-request-withdrawal",
    ),
    path("das/notifications", das.DasNotificationView.as_view(), name="das-notification"),
]
