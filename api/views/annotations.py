"""Notes and annotations on a version's pages (`annotations`): list and add those of a version,
read, change and delete one.

Any signed-in member of staff who may read the document may annotate it; a note is private to
its author or shared with the staff who may read the document. The public sees none (401). Only
the author changes or deletes a note (403 for anyone else who sees it). The version's file and
its SHA-256 never change.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from annotations import actions
from annotations.access import may_annotate, visible_annotations
from annotations.actions import (
    HIGHLIGHT_COLOURS,
    MAX_PAGE,
    MAX_RECTS,
    QUOTE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from annotations.models import Annotation, Kind, Sharing
from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from dossier import access
from dossier.audit import actor_of
from dossier.models import Version


class FractionField(serializers.FloatField):
    """A number from 0 to 1; `true` is not one (DRF's `FloatField` would take it for 1.0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def page_box(**kwargs) -> serializers.ListField:
    """`[x0, y0, x1, y1]`: four fractions of the page."""
    number = FractionField(min_value=0, max_value=1)
    return serializers.ListField(child=number, min_length=4, max_length=4, **kwargs)


class AnnotationSerializer(serializers.ModelSerializer):
    document = serializers.UUIDField(source="document_id", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, help_text="The page, from 1.")
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.NOTE)
    rect = page_box(
        required=False,
        help_text=(
            "Where on the page: `[x0, y0, x1, y1]`, fractions of its width and height from "
            "its top left corner (of the page unrotated, so the same at any zoom). A note at a "
            "point has x0 = x1 and y0 = y1; a note needs it. A highlight's is the bounding box "
            "of its `rects` (or its one box when it is given no `rects`)."
        ),
    )
    rects = serializers.ListField(
        child=page_box(),
        required=False,
        max_length=MAX_RECTS,
        help_text=(
            f"A highlight's boxes (1 to {MAX_RECTS}, about one a line of the selected text), "
            "each `[x0, y0, x1, y1]` as `rect`. A note has none."
        ),
    )
    quote = serializers.CharField(
        max_length=QUOTE_MAX_LENGTH,
        allow_blank=True,
        required=False,
        help_text="The text a highlight covers, as selected. A note has none.",
    )
    text = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        allow_blank=True,
        required=False,
        default="",
        help_text="A note's text, or a highlight's optional comment.",
    )
    colour = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$",
        required=False,
        default="#ffd400",
        help_text=f"`#rrggbb`; a highlight's is one of {', '.join(HIGHLIGHT_COLOURS)}.",
    )
    visibility = serializers.ChoiceField(
        choices=Sharing.choices,
        default=Sharing.PRIVATE,
        help_text="`private`: only you; `shared`: the staff who may read the document.",
    )
    author = serializers.CharField(source="author.get_username", read_only=True)
    own = serializers.SerializerMethodField(help_text="Whether you wrote it (and may change it).")

    class Meta:
        model = Annotation
        fields = [
            "id",
            "document",
            "version",
            "page",
            "kind",
            "rect",
            "rects",
            "quote",
            "text",
            "colour",
            "visibility",
            "author",
            "own",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_own(self, annotation: Annotation) -> bool:
        request = self.context.get("request")
        return request is not None and annotation.author_id == request.user.pk


def _require_staff(request) -> None:
    require(may_annotate(request.user), "read or write notes", request.user)


def _version_for(request, document_id, number: int) -> Version:
    document = access.get_document_for(request.user, document_id)
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Problem("unknown-version", f"the document has no version {number}")
    return version


class VersionAnnotationsView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = AnnotationSerializer

    @extend_schema(
        summary="The notes on a version that you may read (yours and shared ones)",
        operation_id="annotations_list",
        parameters=PAGE_PARAMETERS,
        responses={200: AnnotationSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request, document_id, number):
        _require_staff(request)
        version = _version_for(request, document_id, number)
        notes = visible_annotations(request.user).filter(version=version)
        page = self.paginate_queryset(notes.select_related("author", "version"))
        return self.get_paginated_response(
            AnnotationSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Add a note or highlight on a page of a version",
        description=(
            "Stored apart from the file: the version's content and SHA-256 never change. A note "
            "needs a `rect` and a text; a highlight needs its `rects` (the selection's boxes), "
            "keeps the `quote` it covers and may have a comment (`text`). Audited."
        ),
        operation_id="annotations_create",
        request=AnnotationSerializer,
        responses={201: AnnotationSerializer, **problems(400, 401, 404)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, document_id, number):
        _require_staff(request)
        version = _version_for(request, document_id, number)
        body = AnnotationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        annotation = actions.add_annotation(version, actor=actor_of(request), **body.validated_data)
        headers = {"Location": reverse("api:annotation-detail", args=[annotation.pk])}
        data = AnnotationSerializer(annotation, context={"request": request}).data
        return Response(data, status=201, headers=headers)


class AnnotationDetailView(GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = AnnotationSerializer

    def _visible(self, request, annotation_id) -> Annotation:
        _require_staff(request)
        found = (
            visible_annotations(request.user)
            .select_related("author", "version", "document__dossier")
            .filter(pk=annotation_id)
            .first()
        )
        if found is None:
            raise Problem("not-found", f"no annotation {annotation_id}")
        return found

    def _own(self, request, annotation_id) -> Annotation:
        annotation = self._visible(request, annotation_id)
        require(annotation.author_id == request.user.pk, "change another's note", request.user)
        return annotation

    @extend_schema(summary="One note", responses={200: AnnotationSerializer, **problems(401, 404)})
    def get(self, request, annotation_id):
        annotation = self._visible(request, annotation_id)
        return Response(AnnotationSerializer(annotation, context={"request": request}).data)

    @extend_schema(
        summary="Change your note or highlight (text, colour, place, sharing)",
        request=AnnotationSerializer,
        responses={200: AnnotationSerializer, **problems(400, 401, 403, 404)},
    )
    def patch(self, request, annotation_id):
        annotation = self._own(request, annotation_id)
        body = AnnotationSerializer(annotation, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changed = actions.change_annotation(
            annotation, actor=actor_of(request), **body.validated_data
        )
        return Response(AnnotationSerializer(changed, context={"request": request}).data)

    @extend_schema(
        summary="Delete your note or highlight", responses={204: None, **problems(401, 403, 404)}
    )
    def delete(self, request, annotation_id):
        actions.delete_annotation(self._own(request, annotation_id), actor=actor_of(request))
        return Response(status=204)
