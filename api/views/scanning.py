"""Digitization endpoints: cover sheets, scan batches, and quality control of their parts.

Views validate, check the role through `dossier.access`, call one operation of
`scanning`, and render; the domain audits every change.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.content import JsonForErrors, blob_response
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import CONTENT_HEADERS, IDEMPOTENCY_HEADER, content_responses, problems
from api.serializers import document_type
from api.uploads import staged_from_upload
from dossier import access, actions
from dossier.audit import actor_of
from scanning import coversheets, qc, splitting, stats
from scanning.models import PartState, ScanBatch, ScanPart
from scanning.operations import OPERATIONS, UnknownDocumentType, run_operation

# --- Serializers ----------------------------------------------------------------------------


class CoverSheetRequestSerializer(serializers.Serializer):
    """One sheet: a cover sheet for `dossier` and `type`, or with `separator` the generic
    "next document" sheet."""

    dossier = serializers.CharField(required=False, max_length=128)
    type = serializers.CharField(required=False, max_length=20)
    official_date = serializers.DateField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    separator = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs.get("separator"):
            return attrs
        if not attrs.get("dossier") or not attrs.get("type"):
            raise serializers.ValidationError(
                {"dossier": "a cover sheet names a dossier and a type (or set separator)"}
            )
        attrs["type"] = document_type(attrs["type"])
        return attrs


class BatchSubmitSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="Multi-page PDF or TIFF.")
    station = serializers.CharField(required=False, allow_blank=True, max_length=100)
    drop_blank_pages = serializers.BooleanField(required=False, default=True)


# A part whose pages were expunged since the split (its document's content, on a court order or
# an erasure request) stays listed, as a tombstone.
EXPUNGED_HELP = (
    "True when the part's pages were expunged since: its content answers 410, and the only "
    "quality-control operation left is `reject`."
)


class PartSerializer(serializers.ModelSerializer):
    document = serializers.UUIDField(source="document_id", allow_null=True)
    dossier = serializers.SerializerMethodField()
    type = serializers.CharField(source="type_code")
    pages = serializers.IntegerField(source="page_count")
    qc = serializers.CharField(source="state")
    expunged = serializers.SerializerMethodField(help_text=EXPUNGED_HELP)

    class Meta:
        model = ScanPart
        fields = [
            "id",
            "index",
            "qc",
            "expunged",
            "reason",
            "document",
            "dossier",
            "type",
            "official_date",
            "title",
            "pages",
            "source_pages",
            "updated_at",
        ]

    def get_dossier(self, part) -> str:
        return part.document.dossier.display_key if part.document_id else part.dossier_key

    def get_expunged(self, part) -> bool:
        return part.content.expunged_at is not None


class BatchDocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="document_id")
    part = serializers.UUIDField(source="id")
    dossier = serializers.CharField(source="document.dossier.display_key")
    type = serializers.CharField(source="document.doc_type_id")
    pages = serializers.IntegerField(source="page_count")
    qc = serializers.CharField(source="state")
    expunged = serializers.SerializerMethodField(help_text=EXPUNGED_HELP)

    def get_expunged(self, part) -> bool:
        return part.content.expunged_at is not None


class BatchUnassignedSerializer(serializers.Serializer):
    part = serializers.UUIDField(source="id")
    pages = serializers.IntegerField(source="page_count")
    source_pages = serializers.ListField(child=serializers.IntegerField())
    reason = serializers.CharField()


class BatchSerializer(serializers.ModelSerializer):
    documents = serializers.SerializerMethodField()
    unassigned = serializers.SerializerMethodField()
    set_aside = serializers.SerializerMethodField()
    operator = serializers.CharField(source="operator_label")

    class Meta:
        model = ScanBatch
        fields = [
            "id",
            "state",
            "progress",
            "station",
            "operator",
            "origin",
            "source_filename",
            "pages_in",
            "pages_out",
            "cover_sheets",
            "blank_pages",
            "error",
            "created_at",
            "started_at",
            "split_at",
            "finished_at",
            "documents",
            "unassigned",
            "set_aside",
        ]

    def _parts(self, batch) -> list[ScanPart]:
        return list(batch.parts.all())

    @extend_schema_field(BatchDocumentSerializer(many=True))
    def get_documents(self, batch) -> list:
        parts = [p for p in self._parts(batch) if p.document_id and p.state != PartState.MERGED]
        return BatchDocumentSerializer(parts, many=True).data

    @extend_schema_field(BatchUnassignedSerializer(many=True))
    def get_unassigned(self, batch) -> list:
        parts = [p for p in self._parts(batch) if p.state == PartState.UNASSIGNED]
        return BatchUnassignedSerializer(parts, many=True).data

    @extend_schema_field(BatchUnassignedSerializer(many=True))
    def get_set_aside(self, batch) -> list:
        """The pages judged blank, kept as a part in state `blank` (`put-back` returns them)."""
        parts = [p for p in self._parts(batch) if p.state == PartState.BLANK and p.page_count]
        return BatchUnassignedSerializer(parts, many=True).data


# --- Views ----------------------------------------------------------------------------------


def _require_qc(request, what: str) -> None:
    require(access.can_do_quality_control(request.user), what, request.user)


class CoverSheetsView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Printable cover/separator sheets (one object or a list) as a PDF",
        request=CoverSheetRequestSerializer(many=True),
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **problems(400, 404)},
    )
    def post(self, request):
        require(access.can_print_cover_sheets(request.user), "print cover sheets", request.user)
        many = isinstance(request.data, list)
        body = CoverSheetRequestSerializer(data=request.data, many=many)
        body.is_valid(raise_exception=True)
        items = body.validated_data if many else [body.validated_data]
        if not items:
            raise Problem("validation-error", "ask for at least one sheet")
        if len(items) > 1000:
            raise Problem("validation-error", "at most 1000 sheets at a time")
        pages = [self._render(request.user, item) for item in items]
        response = HttpResponse(coversheets.sheets_pdf(pages), content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="cover-sheets.pdf"'
        return response

    def _render(self, user, item):
        if item.get("separator"):
            return coversheets.separator_sheet()
        # The sheet must route somewhere real: the dossier must exist (and be visible).
        dossier = access.get_dossier_for(user, item["dossier"])
        return coversheets.cover_sheet(
            dossier, item["type"], item.get("official_date"), item.get("title", "")
        )


def batches_queryset():
    parts = ScanPart.objects.select_related("document__dossier", "content").order_by("index")
    return ScanBatch.objects.prefetch_related(Prefetch("parts", queryset=parts))


class ScanBatchListView(IdempotentMixin, APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Recent scan batches",
        operation_id="scan_batches_list",
        responses={200: BatchSerializer(many=True), **problems(403)},
    )
    def get(self, request):
        _require_qc(request, "see scan batches")
        batches = batches_queryset()[:100]
        return Response(BatchSerializer(batches, many=True).data)

    @extend_schema(
        summary="Submit a scan batch (split in the background)",
        request={"multipart/form-data": BatchSubmitSerializer},
        responses={202: BatchSerializer, **problems(415)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        _require_qc(request, "submit scan batches")
        body = BatchSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            batch = splitting.submit_batch(
                staged_from_upload(body.validated_data["file"]),
                actor=actor_of(request),
                station=body.validated_data.get("station", ""),
                drop_blank_pages=body.validated_data["drop_blank_pages"],
            )
        except splitting.NotAScan as exc:
            raise Problem("unsupported-media-type", str(exc), field="file") from None
        batch = batches_queryset().get(id=batch.id)
        headers = {"Location": reverse("api:scan-batch-detail", args=[batch.id])}
        return Response(BatchSerializer(batch).data, status=202, headers=headers)


class ScanBatchDetailView(APIView):
    @extend_schema(
        summary="A scan batch: state, progress, documents, unassigned parts",
        responses={200: BatchSerializer, **problems(403)},
    )
    def get(self, request, batch_id):
        _require_qc(request, "see scan batches")
        batch = batches_queryset().filter(id=batch_id).first()
        if batch is None:
            raise Problem("not-found", f"no scan batch {batch_id}")
        return Response(BatchSerializer(batch).data)


class PaperLocationSerializer(serializers.Serializer):
    paper_location = serializers.CharField(allow_blank=True, max_length=200)


class PaperLocationView(APIView):
    """Where a dossier's paper file is (records staff keep it current while back-scanning)."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Record where the dossier's paper file is",
        request=PaperLocationSerializer,
        responses={200: PaperLocationSerializer},
    )
    def put(self, request, key):
        allowed = access.can_do_quality_control(request.user) or access.can_manage_dossiers(
            request.user
        )
        require(allowed, "record paper locations", request.user)
        dossier = access.get_dossier_for(request.user, key)
        body = PaperLocationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dossier, _ = actions.upsert_dossier(
            dossier.key,
            {"paper_location": body.validated_data["paper_location"]},
            actor=actor_of(request),
        )
        return Response({"paper_location": dossier.paper_location})


class ScanStatsView(APIView):
    @extend_schema(
        summary="Digitization dashboard: pages per day per station and operator, error, "
        "rejection and rescan rates, backlog",
        parameters=[OpenApiParameter("days", int, description="1 to 366 (default 30).")],
        responses={200: OpenApiTypes.OBJECT, **problems(400, 403)},
    )
    def get(self, request):
        _require_qc(request, "see scanning figures")
        raw = request.query_params.get("days", "30")
        if not raw.isdecimal() or not 1 <= int(raw) <= 366:
            raise Problem("validation-error", "days must be 1 to 366", field="days")
        return Response(stats.dashboard(int(raw)))


def _part(part_id, user) -> ScanPart:
    try:
        return qc.get_part_for(user, part_id)
    except access.NotFound:
        raise Problem("not-found", f"no scan part {part_id}") from None


class ScanPartView(APIView):
    @extend_schema(
        summary="One part of a scan batch", responses={200: PartSerializer, **problems(403)}
    )
    def get(self, request, part_id):
        _require_qc(request, "see scan parts")
        return Response(PartSerializer(_part(part_id, request.user)).data)


class ScanPartContentView(APIView):
    content_negotiation_class = JsonForErrors

    @extend_schema(
        summary="The part's current pages as a PDF",
        parameters=CONTENT_HEADERS,
        responses={**content_responses("application/pdf"), **problems(403, 410)},
    )
    def get(self, request, part_id):
        _require_qc(request, "see scan parts")
        part = _part(part_id, request.user)
        filename = f"scan-part-{part.index + 1:03d}.pdf"
        return blob_response(
            request, part.content, media_type="application/pdf", filename=filename, inline=True
        )


class ScanPartOperationView(IdempotentMixin, APIView):
    """`POST /scan-parts/{id}/{operation}`: one quality-control operation, audited."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        summary="Quality control: " + ", ".join(OPERATIONS),
        request=OpenApiTypes.OBJECT,
        # 405: `POST …/content` reaches the part's content, which is only read (GET).
        responses={200: PartSerializer, 201: PartSerializer, **problems(405, 410)},
        parameters=[
            IDEMPOTENCY_HEADER,
            OpenApiParameter("operation", str, OpenApiParameter.PATH, enum=list(OPERATIONS)),
        ],
    )
    def post(self, request, part_id, operation):
        _require_qc(request, "do quality control")
        if operation not in OPERATIONS:
            raise Problem("not-found", f"no quality-control operation {operation!r}")
        part = _part(part_id, request.user)
        try:
            result = run_operation(
                operation, part, request.data, actor=actor_of(request), user=request.user
            )
        except UnknownDocumentType as exc:
            raise Problem("unknown-document-type", str(exc), field="type") from exc
        status = 201 if operation == "split" else 200
        return Response(PartSerializer(_part(result.id, request.user)).data, status=status)
