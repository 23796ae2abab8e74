"""The WIPO CASE providing service under /api/v1/case/ (its base URL, given to WIPO when the
office joins CASE), and the edms call that writes a dossier's citations."""

from django.urls import path, re_path

from api.views import case

case_urlpatterns = [
    path("case/oauth2/token", case.CaseTokenView.as_view(), name="case-token"),
    path("case/doclists", case.CaseDoclistView.as_view(), name="case-doclists"),
    path(
        "case/applications/citations",
        case.CaseCitationsView.as_view(),
        name="case-citations",
    ),
    path(
        "case/documents/<uuid:document_id>", case.CaseDocumentView.as_view(), name="case-document"
    ),
]

citation_urlpatterns = [
    re_path(
        r"^dossiers/(?P<key>.+)/citations$",
        case.DossierCitationsView.as_view(),
        name="dossier-citations",
    ),
]
