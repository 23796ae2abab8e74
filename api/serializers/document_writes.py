"""Registering a document, uploading a new version, the answer to both, and changing one."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from api.serializers.documents import BARCODE_HELP
from api.serializers.validation import document_type
from dossier.models import Channel, Direction, DocumentType, Version, Visibility
from scanning import coversheets


class DocumentRegisterSerializer(serializers.Serializer):
    """Multipart fields of `POST /dossiers/{key}/documents`."""

    file = serializers.FileField(allow_empty_file=True)
    type = serializers.CharField(max_length=20)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    official_date = serializers.DateField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    registry_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    parent = serializers.UUIDField(required=False, allow_null=True)
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", required=False, help_text="Expected SHA-256 (hex) of the file."
    )

    def validate_type(self, code: str) -> DocumentType:
        return document_type(code)


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False)


class VersionRestoreSerializer(serializers.Serializer):
    """The body of `POST /documents/{id}/versions/{n}/restore`."""

    reason = serializers.CharField(max_length=2000, help_text="Why the version is restored.")


class ExpungeSerializer(serializers.Serializer):
    """The body of `POST /documents/{id}/expunge`."""

    reason = serializers.CharField(max_length=2000, help_text="Why the content is removed.")
    reference = serializers.CharField(
        max_length=200, help_text="The court order, decision or request it follows."
    )
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        allow_empty=False,
        max_length=1000,
        help_text="The version numbers to expunge; omitted: all of them.",
    )


class RegistrationSerializer(serializers.Serializer):
    """The answer to a registration or a new version."""

    id = serializers.UUIDField(source="document.id")
    dossier = serializers.CharField(source="document.dossier.display_key")
    type = serializers.CharField(source="document.doc_type_id")
    version = serializers.IntegerField(source="number")
    sha256 = serializers.CharField(source="blob_id")
    size = serializers.IntegerField(source="blob.size")
    media_type = serializers.CharField()
    filename = serializers.CharField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()
    content_url = serializers.SerializerMethodField()
    barcode = serializers.SerializerMethodField(help_text=BARCODE_HELP)

    def get_barcode(self, version: Version) -> str:
        return coversheets.barcode_payload(version.document)

    def get_url(self, version: Version) -> str:
        return reverse("api:document-detail", args=[version.document_id])

    def get_content_url(self, version: Version) -> str:
        return reverse("api:version-content", args=[version.document_id, version.number])


class DocumentPatchSerializer(serializers.Serializer):
    """PATCH body: metadata changes, a move (`dossier`), or a cancellation (`state`)."""

    type = serializers.CharField(required=False, max_length=20)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    official_date = serializers.DateField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    registry_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    redaction_required = serializers.BooleanField(
        required=False,
        help_text="The public sees the document only once its latest version has a redacted "
        "copy, and reads only that copy.",
    )
    dossier = serializers.CharField(required=False, help_text="Move to this dossier (file number).")
    state = serializers.ChoiceField(choices=["cancelled"], required=False)
    cancel_reason = serializers.CharField(required=False, allow_blank=True)

    def validate_type(self, code: str) -> DocumentType:
        return document_type(code)

    def validate(self, attrs):
        if attrs.get("state") == "cancelled" and not attrs.get("cancel_reason", "").strip():
            raise serializers.ValidationError({"cancel_reason": "a reason is required to cancel"})
        return attrs


class PaperOriginalRecordSerializer(serializers.Serializer):
    """Body of `POST /documents/{id}/paper-original`."""

    received_on = serializers.DateField(help_text="The day the paper original was received.")
    location = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Where it is kept."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
