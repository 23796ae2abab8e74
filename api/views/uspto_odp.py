"""USPTO-shaped public reads: a file wrapper's `documentBag` and each document's PDF, where a
USPTO Open Data Portal client looks for them (`exchange.uspto_odp` holds the shape and the
mappings; this module only presents them).

Both calls read as the public whoever calls (an integrated system's key gives no more here), and
answer problems like every other call: 404 for an application the public may not see, whether
it is unknown, unpublished or secret.
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.content import JsonForErrors, blob_response
from api.problems import Problem
from api.schema import CONTENT_HEADERS, content_responses, problems
from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import Document
from exchange import uspto_odp

API_KEY_HEADER = OpenApiParameter(
    "X-API-KEY",
    str,
    OpenApiParameter.HEADER,
    description=(
        "The key USPTO clients send. Ignored unless the office lists keys "
        "(`EDMS_ODP_API_KEYS`); then one of them is required."
    ),
)


class DownloadOptionSerializer(serializers.Serializer):
    mimeTypeIdentifier = serializers.CharField(help_text="Always `PDF`.")
    downloadURI = serializers.URLField(help_text="The PDF (the ODP data dictionary's name).")
    downloadUrl = serializers.URLField(help_text="The same URI (the live ODP's name).")
    pageTotalQuantity = serializers.IntegerField(allow_null=True)


class UsptoDocumentSerializer(serializers.Serializer):
    applicationNumberText = serializers.CharField()
    officialDate = serializers.CharField(help_text="`YYYY-MM-DDThh:mm:ss.000+0000`.")
    documentIdentifier = serializers.CharField(help_text="The edms document id.")
    documentCode = serializers.CharField(help_text="USPTO document code, else the edms type.")
    documentCodeDescriptionText = serializers.CharField()
    documentDirectionCategory = serializers.ChoiceField(["INCOMING", "OUTGOING", "INTERNAL"])
    downloadOptionBag = DownloadOptionSerializer(many=True)


class DocumentBagSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    documentBag = UsptoDocumentSerializer(many=True)


def check_api_key(request) -> None:
    """Refuse a caller without one of the office's keys, when the office lists keys."""
    keys = settings.EDMS_ODP_API_KEYS
    if not keys:
        return
    sent = request.headers.get("X-API-KEY", "")
    if not sent:
        raise Problem("not-authenticated", "send X-API-KEY: <key>", field="X-API-KEY")
    if not any(hmac.compare_digest(sent.encode(), key.encode()) for key in keys):
        raise Problem("authentication-failed", "the X-API-KEY is not valid", field="X-API-KEY")


def _date_param(request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Problem(
            "validation-error", f"{name} is not a date (YYYY-MM-DD)", field=name
        ) from None


def _application(application_number: str):
    try:
        return uspto_odp.public_dossier(application_number)
    except access.NotFound:
        raise Problem(
            "unknown-dossier", f"no public file wrapper for application {application_number!r}"
        ) from None


class ApplicationDocumentsView(APIView):
    """`GET /api/v1/patent/applications/{applicationNumberText}/documents`, as the USPTO ODP."""

    @extend_schema(
        summary="USPTO-shaped: the public documents of an application (ODP `documentBag`)",
        description=(
            "The application is named by the eight-digit number USPTO clients send "
            "(`24000123` = file type `EDMS_ODP_FILE_TYPE` of series 2024, serial 123), the "
            "series-code form `24/000123`, or the edms file number. Only published dossiers, "
            "only the documents the public may see, each as the public reads it (a redacted "
            "document as its redacted copy)."
        ),
        tags=["USPTO-shaped reads"],
        parameters=[
            API_KEY_HEADER,
            OpenApiParameter(
                "documentCodes", str, description="Comma-separated USPTO document codes."
            ),
            OpenApiParameter("officialDateFrom", str, description="YYYY-MM-DD, inclusive."),
            OpenApiParameter("officialDateTo", str, description="YYYY-MM-DD, inclusive."),
        ],
        responses={200: DocumentBagSerializer, **problems(400, 404)},
    )
    def get(self, request, applicationNumberText):
        check_api_key(request)
        date_from = _date_param(request, "officialDateFrom")
        date_to = _date_param(request, "officialDateTo")
        dossier = _application(applicationNumberText)

        def download_uri(number_text: str, document: Document) -> str:
            path = reverse("api:uspto-download", args=[number_text, str(document.id)])
            return request.build_absolute_uri(path)

        bag = uspto_odp.document_bag(
            dossier,
            download_uri,
            document_codes=request.query_params.get("documentCodes", "").split(","),
            official_date_from=date_from,
            official_date_to=date_to,
        )
        return Response(bag)


class ApplicationDocumentDownloadView(APIView):
    """A document's PDF at the URI the `documentBag` names, streamed; audited as a download."""

    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="USPTO-shaped: download a public document as PDF",
        tags=["USPTO-shaped reads"],
        parameters=[API_KEY_HEADER, *CONTENT_HEADERS],
        responses={**content_responses("application/pdf"), **problems(410)},
    )
    def get(self, request, applicationNumberText, documentIdentifier):
        check_api_key(request)
        dossier = _application(applicationNumberText)
        try:
            form = uspto_odp.public_pdf(dossier, documentIdentifier)
        except access.NotFound:
            raise Problem(
                "unknown-document",
                f"application {applicationNumberText!r} has no public PDF {documentIdentifier!r}",
            ) from None
        response = blob_response(
            request, form.blob, media_type="application/pdf", filename=form.filename
        )
        if response.status_code in (200, 206):
            actions.record_download(
                form.version,
                actor=actor_of(request),
                byte_range=request.headers.get("Range"),
                rendition=form.rendition,
            )
        return response
