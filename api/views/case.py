"""WIPO CASE: the providing service other offices call (token, `doclists`,
`applications/citations`, content by URI) and the edms calls that write a dossier's
search-report citations. What is shared is `exchange.case.sharing`'s decision; the answers'
names are `exchange.case.shapes`'."""

from __future__ import annotations

import base64
import binascii

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.case_auth import CaseClientAuthentication, CaseClientOnly, case_actor
from api.content import JsonForErrors, blob_response
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import CONTENT_HEADERS, IDEMPOTENCY_HEADER, content_responses, problems
from api.serializers import case as s
from dossier import access, actions
from dossier.audit import actor_of
from exchange.case import citations, shapes, sharing
from exchange.case.clients import InvalidClient, issue_token
from exchange.models import DocumentTypeCrosswalk

IDENTIFIER = OpenApiParameter(
    "applicationIdentifier",
    str,
    required=True,
    description="The office code and application number: BG/P/2024/000123 or BGP2024000123.",
)


class CaseTokenView(APIView):
    """OAuth2 client credentials (RFC 6749 §4.4) for CASE clients."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        summary="CASE: a bearer token for a client of the registry (OAuth2 client credentials)",
        description=(
            "Form-encoded `grant_type=client_credentials`, the client's id and secret by HTTP "
            "Basic authentication or as `client_id` and `client_secret`. The token goes in "
            "`Authorization: Bearer` on the CASE calls until `expires_in` seconds have passed. "
            "Errors are problem documents carrying OAuth2's `error` code."
        ),
        operation_id="case_token",
        auth=[],
        request={"application/x-www-form-urlencoded": s.TokenRequestSerializer},
        responses={200: s.TokenSerializer, **problems(400, 401)},
    )
    def post(self, request):
        _refuse_other_credentials(request)
        body = s.TokenRequestSerializer(data=request.data)
        if not body.is_valid():
            raise Problem(
                "validation-error",
                "send grant_type=client_credentials",
                field="grant_type",
                extra={"error": "unsupported_grant_type"},
            )
        client_id, secret = _credentials(request, body.validated_data)
        try:
            issued = issue_token(client_id, secret)
        except InvalidClient:
            raise Problem(
                "authentication-failed",
                "the client is unknown, deactivated, or its secret is wrong",
                extra={"error": "invalid_client"},
            ) from None
        response = Response(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            }
        )
        response["Cache-Control"] = "no-store"  # RFC 6749 §5.1
        return response


def _refuse_other_credentials(request) -> None:
    # Credentials of another kind (an edms API key, a bearer token) are a failed client
    # authentication, answered before the body is read (RFC 6749 §5.2: 401 invalid_client).
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if scheme and scheme.lower() != "basic":
        raise Problem(
            "authentication-failed",
            "the token endpoint takes the client's id and secret (HTTP Basic), not an API key",
            extra={"error": "invalid_client"},
        )


def _credentials(request, data: dict) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        return client_id, secret
    if data.get("client_id") and data.get("client_secret"):
        return data["client_id"], data["client_secret"]
    raise Problem(
        "not-authenticated",
        "send the client's id and secret (HTTP Basic, or client_id and client_secret)",
        extra={"error": "invalid_client"},
    )


class CaseView(APIView):
    authentication_classes = [CaseClientAuthentication]
    permission_classes = [CaseClientOnly]

    def shared_dossier(self, request):
        identifier = request.query_params.get("applicationIdentifier", "")
        if not identifier:
            raise Problem(
                "validation-error", "give applicationIdentifier", field="applicationIdentifier"
            )
        try:
            return sharing.shared_dossier(identifier)
        except sharing.NotShared:
            raise Problem("unknown-dossier", f"no shared application {identifier!r}") from None


class CaseDoclistView(CaseView):
    @extend_schema(
        summary="CASE: the documents of an application shared with other offices",
        description=(
            "Only documents of a published dossier that the public may read and whose type the "
            "crosswalk maps to a CASE `documentCodeCategory`; newest first."
        ),
        operation_id="case_doclists",
        parameters=[IDENTIFIER],
        responses={200: s.DoclistSerializer, **problems(400, 401, 403, 404)},
    )
    def get(self, request):
        dossier = self.shared_dossier(request)
        documents = list(sharing.shared_documents(dossier))
        contents = sharing.shared_contents(documents)
        crosswalk = {
            row.doc_type_id: row
            for row in DocumentTypeCrosswalk.objects.filter(
                doc_type_id__in={document.doc_type_id for document in documents}
            )
        }

        def location(document) -> str:
            return request.build_absolute_uri(reverse("api:case-document", args=[document.id]))

        return Response(shapes.doclist(dossier, documents, contents, crosswalk, location))


class CaseCitationsView(CaseView):
    @extend_schema(
        summary="CASE: the search-report citations of an application (ST.96)",
        operation_id="case_citations",
        parameters=[IDENTIFIER],
        responses={200: s.CitationListSerializer, **problems(400, 401, 403, 404)},
    )
    def get(self, request):
        dossier = self.shared_dossier(request)
        return Response(shapes.citations(dossier, citations.dossier_citations(dossier)))


class CaseDocumentView(CaseView):
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="CASE: a shared document's content (its documentLocationURI)",
        description="The latest version, or its redacted copy where the public reads only that.",
        operation_id="case_document_content",
        parameters=CONTENT_HEADERS,
        responses={**content_responses(), **problems(401, 403, 410)},
    )
    def get(self, request, document_id):
        try:
            _, content = sharing.shared_content(document_id)
        except sharing.NotShared:
            raise Problem("unknown-document", f"no shared document {document_id}") from None
        response = blob_response(
            request, content.blob, media_type=content.media_type, filename=content.filename
        )
        if response.status_code in (200, 206):
            actions.record_download(
                content.version,
                actor=case_actor(request),
                byte_range=request.headers.get("Range"),
                rendition=content.rendition,
            )
        return response


class DossierCitationsView(IdempotentMixin, APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="The dossier's search-report citations (ST.96), as CASE serves them",
        operation_id="dossier_citations_list",
        responses={200: s.CitationSerializer(many=True), **problems(404)},
    )
    def get(self, request, key):
        dossier = access.get_dossier_for(request.user, key)
        return Response([shapes.citation(row) for row in citations.dossier_citations(dossier)])

    @extend_schema(
        summary="Record a citation of a search report (ST.96: patent document or NPL)",
        description=(
            "Audited as `dossier.citation_recorded`. Served to other offices by CASE's "
            "`applications/citations` once the dossier is published."
        ),
        operation_id="dossier_citations_create",
        request=s.CitationSerializer,
        responses={201: s.CitationSerializer, **problems(400, 401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample(
                "Patent citation",
                value={
                    "patentCitation": {
                        "citedPatentDocumentIdentification": {
                            "ipOfficeCode": "EP",
                            "documentNumber": "1234567",
                            "patentDocumentKindCode": "A1",
                            "patentDocumentDate": "2019-05-02",
                        }
                    },
                    "citationCategoryCodes": ["X"],
                    "patentClaimRange": "1-3",
                    "citedPassageBag": ["paragraphs [0012]-[0020]; figure 2"],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, key):
        require(access.can_record_citations(request.user), "record citations", request.user)
        dossier = access.get_dossier_for(request.user, key)
        body = s.CitationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = citations.record_citation(dossier, actor=actor_of(request), **body.action_arguments())
        headers = {"Location": reverse("api:dossier-citations", args=[dossier.key])}
        return Response(shapes.citation(row), status=201, headers=headers)
