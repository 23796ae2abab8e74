"""Quality-control operations on a scan part, by name: the request body each one takes and the
`scanning.qc` function it calls. The API (`POST /scan-parts/{id}/{operation}`) and the
web UI's QC page both run them from here, so the two accept exactly the same fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rest_framework import serializers

from dossier import access
from dossier.audit import Actor
from dossier.models import DocumentType
from scanning import qc
from scanning.models import ScanPart


class UnknownDocumentType(ValueError):
    """The body names a document type not in the table (or no longer active): the API answers
    it as its `unknown-document-type` problem on the field `type`."""


def _document_type(code: str) -> DocumentType:
    found = DocumentType.objects.filter(code=code.strip().upper(), active=True).first()
    if found is None:
        raise UnknownDocumentType(f"document type {code!r} is not in the table")
    return found


class AssignSerializer(serializers.Serializer):
    dossier = serializers.CharField(max_length=128)
    type = serializers.CharField(max_length=20)
    official_date = serializers.DateField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate_type(self, code: str) -> DocumentType:
        return _document_type(code)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RotateSerializer(serializers.Serializer):
    pages = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    degrees = serializers.ChoiceField(choices=qc.ROTATIONS)


class PagesSerializer(serializers.Serializer):
    pages = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class MovePageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    to = serializers.IntegerField()


class SplitSerializer(serializers.Serializer):
    page = serializers.IntegerField(help_text="The first page of the new part.")


class MergeSerializer(serializers.Serializer):
    other = serializers.UUIDField(help_text="The part whose pages are appended to this one.")


class PutBackSerializer(serializers.Serializer):
    source_pages = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        help_text="Pages of the batch judged blank (the batch's `set_aside`), to put back.",
    )


class ReplacePageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    file = serializers.FileField(help_text="The rescan: a PDF (its first page) or an image.")


def _assign(part, data, actor, user):
    return qc.assign(
        part,
        dossier=access.get_dossier_for(user, data["dossier"]),
        doc_type=data["type"],
        official_date=data.get("official_date"),
        title=data.get("title"),
        actor=actor,
    )


def _replace_page(part, data, actor, user):
    # Uploads are spooled to disk (`api.uploads.HashingUploadHandler`): the rescan is read from
    # its file, never into memory.
    upload = data["file"]
    return qc.replace_page(part, data["page"], upload.temporary_file_path(), actor=actor)


@dataclass(frozen=True)
class Operation:
    body: type[serializers.Serializer] | None
    # (part, validated body, actor, user) -> the part to show afterwards
    run: Callable[[ScanPart, dict, Actor, object], ScanPart]


OPERATIONS: dict[str, Operation] = {
    "approve": Operation(None, lambda part, data, actor, user: qc.approve(part, actor=actor)),
    "reject": Operation(
        RejectSerializer,
        lambda part, data, actor, user: qc.reject(part, reason=data["reason"], actor=actor),
    ),
    "assign": Operation(AssignSerializer, _assign),
    "rotate": Operation(
        RotateSerializer,
        lambda part, data, actor, user: qc.rotate_pages(
            part, data["pages"], data["degrees"], actor=actor
        ),
    ),
    "delete-pages": Operation(
        PagesSerializer,
        lambda part, data, actor, user: qc.delete_pages(part, data["pages"], actor=actor),
    ),
    "move-page": Operation(
        MovePageSerializer,
        lambda part, data, actor, user: qc.move_page(part, data["page"], data["to"], actor=actor),
    ),
    "split": Operation(
        SplitSerializer,
        lambda part, data, actor, user: qc.split_part(part, data["page"], actor=actor),
    ),
    "merge": Operation(
        MergeSerializer,
        lambda part, data, actor, user: qc.merge_parts(
            part, qc.get_part_for(user, data["other"]), actor=actor
        ),
    ),
    "replace-page": Operation(ReplacePageSerializer, _replace_page),
    "put-back": Operation(
        PutBackSerializer,
        lambda part, data, actor, user: qc.put_back_pages(part, data["source_pages"], actor=actor),
    ),
}


def run_operation(name: str, part: ScanPart, data, *, actor: Actor, user) -> ScanPart:
    """Validate `data` for operation `name` (a key of OPERATIONS) and run it on `part`.
    Raises DRF's `ValidationError` for a bad body, `UnknownDocumentType`, and the domain's errors
    for a refused change."""
    operation = OPERATIONS[name]
    validated = {}
    if operation.body is not None:
        body = operation.body(data=data)
        body.is_valid(raise_exception=True)
        validated = body.validated_data
    return operation.run(part, validated, actor, user)
