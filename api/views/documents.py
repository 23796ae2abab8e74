"""One document with its versions: read, its metadata changed, moved, cancelled or
expunged.

`documents_queryset` and `versions_queryset` are documents and versions as the API shows them,
with what their serializers read fetched up front (the dossier views list documents too).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.schema import IDEMPOTENCY_HEADER, problems
from dossier import access, actions, redaction
from dossier.audit import actor_of
from dossier.models import Document, Rendition, Version
from scanning import coversheets


def versions_queryset():
    """Versions as the API shows them: blob, author, processing and renditions in 2 queries."""
    renditions = Prefetch("renditions", queryset=Rendition.objects.select_related("blob"))
    return Version.objects.select_related(
        "blob", "created_by", "expunged_by", "processing"
    ).prefetch_related(renditions)


def documents_queryset(user):
    documents = (
        access.visible_documents(user)
        .select_related("dossier", "doc_type")
        .prefetch_related(Prefetch("versions", queryset=versions_queryset()))
    )
    return redaction.with_redacted_copies(documents)


class DocumentDetailView(IdempotentMixin, APIView):
    """One document with its versions; metadata changes, moves and cancellation."""

    parser_classes = [JSONParser]

    def get_document(self, request, document_id) -> Document:
        access.get_document_for(request.user, document_id)
        return documents_queryset(request.user).get(id=document_id)

    @extend_schema(summary="A document and its versions", responses={200: s.DocumentSerializer})
    def get(self, request, document_id):
        return Response(
            s.DocumentSerializer(
                self.get_document(request, document_id), context=s.reader_context(request)
            ).data
        )

    @extend_schema(
        summary="Change metadata, move to another dossier, or cancel",
        request=s.DocumentPatchSerializer,
        responses={200: s.DocumentSerializer, **problems(409)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def patch(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        body = s.DocumentPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = actor_of(request)
        cancel = data.pop("state", None) == "cancelled"
        reason = data.pop("cancel_reason", "")
        if "type" in data:
            data["doc_type"] = data.pop("type")
        if "dossier" in data:
            data["dossier"] = access.get_dossier_for(request.user, data["dossier"])
        # Check every permission first, so a refused request is not half applied.
        if data:
            require(access.can_change_documents(request.user), "change documents", request.user)
        if cancel:
            require(access.can_cancel_documents(request.user), "cancel documents", request.user)
        if data:
            document = actions.update_document(document, data, actor=actor)
        if cancel:
            document = actions.cancel_document(document, reason=reason, actor=actor)
        return Response(
            s.DocumentSerializer(
                self.get_document(request, document.id), context=s.reader_context(request)
            ).data
        )


class DocumentExpungeView(IdempotentMixin, APIView):
    """Remove a document's content for good (court order, erasure), keeping its tombstone."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Expunge the document's versions (all, or `versions`): administrators only",
        description="The content, extracted text and renditions leave the blob store (unless a "
        "live version shares them) and the document leaves search and exports; the version rows "
        "stay as tombstones (digest, who, when, why) and their content answers 410. A document "
        "under a legal hold (its own or its dossier's) is refused: 409 `legal-hold`.",
        request=s.ExpungeSerializer,
        responses={200: s.DocumentSerializer, **problems(403, 409)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, document_id):
        require(access.can_expunge(request.user), "expunge documents", request.user)
        document = access.get_document_for(request.user, document_id)
        body = s.ExpungeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.expunge_document(
            document,
            reason=body.validated_data["reason"],
            reference=body.validated_data["reference"],
            versions=body.validated_data.get("versions"),
            actor=actor_of(request),
        )
        return Response(
            s.DocumentSerializer(
                self.get_document(request, document.id), context=s.reader_context(request)
            ).data
        )

    def get_document(self, request, document_id) -> Document:
        return documents_queryset(request.user).get(id=document_id)


class DocumentCoverSheetView(APIView):
    """A registered document's cover sheet: a PDF whose QR code is the document's `barcode`.

    Printed as a reception receipt or scanned in front of the paper: splitting reads it as a
    cover sheet for the document's dossier and type."""

    @extend_schema(
        summary="The document's printable cover sheet (PDF) carrying its barcode",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **problems(404)},
    )
    def get(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        page = coversheets.registered_document_sheet(document)
        response = HttpResponse(coversheets.sheets_pdf([page]), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="cover-sheet-{document.id}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class PaperOriginalView(IdempotentMixin, APIView):
    """Mark the document's paper original as received (again: correct the record)."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Mark the paper original as received: the date, where it is kept, a note",
        request=s.PaperOriginalRecordSerializer,
        responses={200: s.DocumentSerializer, **problems(404, 409)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, document_id):
        document = access.get_document_for(request.user, document_id)
        require(access.can_change_documents(request.user), "record paper originals", request.user)
        body = s.PaperOriginalRecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.record_paper_original(
            document,
            received_on=body.validated_data["received_on"],
            location=body.validated_data.get("location", ""),
            note=body.validated_data.get("note", ""),
            actor=actor_of(request),
        )
        return Response(
            s.DocumentSerializer(
                documents_queryset(request.user).get(id=document.id),
                context=s.reader_context(request),
            ).data
        )
