"""Exports across dossiers: the publication batch of a date as one streamed ZIP."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from api import publication_batch
from api.content import JsonForErrors
from api.schema import problems
from dossier.audit import actor_of
from metrics.instruments import counted_zip


class PublicationBatchParamsSerializer(serializers.Serializer):
    date = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text="The publication date, YYYY-MM-DD."
    )


class PublicationBatchView(APIView):
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="Export the dossiers published on a date: one package per dossier, one ZIP",
        description=(
            "`manifest.json` first (the date and, per dossier, its folder), then per dossier "
            "published that day (that the caller may see; never a secret one) its package as in "
            "the dossier export, in a folder named by its file number with its own "
            "`manifest.json`: the latest version of each of its public documents (visibility "
            "`public` or `public_after_publication`). Streamed; each file audited as a download."
        ),
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, required=True)],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **problems(400)},
    )
    def get(self, request):
        params = PublicationBatchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        batch = publication_batch.build_batch(
            request.user, params.validated_data["date"], actor=actor_of(request)
        )
        response = StreamingHttpResponse(
            counted_zip(batch.stream()), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(True, batch.filename)
        response["Cache-Control"] = "private, no-cache"
        response["X-Content-Type-Options"] = "nosniff"
        return response
