"""A document and its versions as the API shows them: each version's processing facts, its
renditions, and how its processing is going (ingest's run state, shown, never its text).

What a version shows depends on who reads it, so the views pass the request in the serializer
context (`reader_context`): the public reading a document through its redacted copy is listed
only that copy among the renditions, and sees of an expunged version only that it was and when.
Without a request the serializers show what the public would: forgetting it never leaks.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.duplicates import DuplicateSerializer
from dossier import access, redaction
from dossier.models import Channel, Document, Rendition, TextQuality, Version
from ingest.models import Processing, State
from scanning import coversheets
from similarity import near_duplicates

BARCODE_HELP = (
    "The QR payload of the document's cover sheet or reception receipt, in the scanning "
    "sheets' format: `EDMS1|<dossier>|<type>|<official date>||<document id>`."
)


def reader_context(request) -> dict:
    """The serializer context that says who reads: the request (its user)."""
    return {"request": request}


def _reader(serializer: serializers.Serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ProcessingSerializer(serializers.ModelSerializer):
    """The ingestion pipeline's state for one version (never its text)."""

    renditions_state = serializers.ChoiceField(
        choices=[("", "None due"), *State.choices],
        read_only=True,
        help_text="The renditions (thumbnail, an office document's PDF), made after the version "
        "is done and searchable: empty when none are due, else pending, running, done or failed.",
    )

    class Meta:
        model = Processing
        fields = [
            "state",
            "stage",
            "reason",
            "reason_code",
            "steps",
            "attempts",
            "started_at",
            "finished_at",
            "renditions_state",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "reason": {
                "help_text": "Why it failed, one plain English sentence a person can act on "
                "(empty unless failed); the raw technical detail is in the failing step's "
                "`detail`."
            },
            "reason_code": {
                "help_text": "The failure reason's stable code (empty unless failed), e.g. "
                "`encrypted-pdf`, `zip-named-pdf`, `damaged-pdf`: README lists them all."
            },
        }


class RenditionSerializer(serializers.ModelSerializer):
    """A file made from the version (PDF/A by OCR, PDF of an office document, thumbnail)."""

    sha256 = serializers.CharField(source="blob_id")
    size = serializers.IntegerField(source="blob.size")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Rendition
        fields = ["kind", "media_type", "sha256", "size", "url"]
        read_only_fields = fields

    def get_url(self, rendition: Rendition) -> str:
        version = rendition.version
        return reverse(
            "api:version-rendition", args=[version.document_id, version.number, rendition.kind]
        )


class ExpungedSerializer(serializers.Serializer):
    """The tombstone of an expunged version: who removed its content, when, why, on what
    authority. Its digest stays in `sha256`. Only for those who may know: the public gets
    `PublicExpungedSerializer`."""

    at = serializers.DateTimeField(source="expunged_at")
    by = serializers.SlugRelatedField(
        source="expunged_by", slug_field="username", read_only=True, allow_null=True
    )
    reason = serializers.CharField(source="expunge_reason")
    reference = serializers.CharField(source="expunge_reference")


class PublicExpungedSerializer(ExpungedSerializer):
    """The tombstone as the public sees it: that the version was expunged and when; who did it,
    why and on what authority are null (the reason or reference may name the very person whose
    data was removed)."""

    def to_representation(self, version: Version) -> dict:
        at = self.fields["at"].to_representation(version.expunged_at)
        return {"at": at, "by": None, "reason": None, "reference": None}


# `ExpungedSerializer`'s fields, or null (drf-spectacular drops `allow_null` on a serializer).
EXPUNGED_SCHEMA = {
    "type": "object",
    "nullable": True,
    "required": ["at", "by", "reason", "reference"],
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "by": {"type": "string", "nullable": True, "description": "Null for the public."},
        "reason": {"type": "string", "nullable": True, "description": "Null for the public."},
        "reference": {"type": "string", "nullable": True, "description": "Null for the public."},
    },
}


class VersionSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob_id")
    size = serializers.IntegerField(source="blob.size")
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    content_url = serializers.SerializerMethodField()
    processing = serializers.SerializerMethodField()
    detected_media_type = serializers.SerializerMethodField()
    page_count = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()
    metadata = serializers.SerializerMethodField()
    text_url = serializers.SerializerMethodField()
    quality = serializers.SerializerMethodField(
        help_text="The text-quality gate's verdict once processed (null before): ok, or warning "
        "when the text is garbled or missing; `quality_reason` says why.",
    )
    quality_reason = serializers.CharField(
        read_only=True,
        help_text="Why the text got a warning, in one sentence (empty when ok): e.g. 'only 3 "
        "characters for 12 pages: the pages are probably images', 'no text: the page is blank'.",
    )
    renditions = serializers.SerializerMethodField()
    expunged = serializers.SerializerMethodField(
        help_text="Null, or the tombstone of an expunged version (its content answers 410): "
        "when, and for staff who, why and on what authority (null for the public)."
    )

    class Meta:
        model = Version
        fields = [
            "number",
            "sha256",
            "size",
            "media_type",
            "filename",
            "created_at",
            "created_by",
            "content_url",
            "processing",
            "detected_media_type",
            "page_count",
            "languages",
            "metadata",
            "text_url",
            "quality",
            "quality_reason",
            "renditions",
            "expunged",
        ]
        read_only_fields = fields

    def get_content_url(self, version: Version) -> str:
        return reverse("api:version-content", args=[version.document_id, version.number])

    @staticmethod
    def _processing(version: Version) -> Processing | None:
        try:
            return version.processing
        except Processing.DoesNotExist:
            return None

    @extend_schema_field(ProcessingSerializer)
    def get_processing(self, version: Version) -> dict:
        processing = self._processing(version)
        if processing is None:
            # Committed, and its processing not yet queued: to a client that is "pending".
            return ProcessingSerializer(Processing(version=version)).data
        return ProcessingSerializer(processing).data

    def get_detected_media_type(self, version: Version) -> str | None:
        return version.detected_media_type or None

    def get_page_count(self, version: Version) -> int | None:
        return version.page_count

    def get_languages(self, version: Version) -> list[str]:
        return version.languages

    def get_metadata(self, version: Version) -> dict:
        return version.metadata

    @extend_schema_field(serializers.ChoiceField(choices=TextQuality.choices, allow_null=True))
    def get_quality(self, version: Version) -> str | None:
        return version.quality or None

    def get_text_url(self, version: Version) -> str | None:
        processing = self._processing(version)
        if processing is None or processing.state != State.DONE:
            return None
        return reverse("api:version-text", args=[version.document_id, version.number])

    @extend_schema_field(EXPUNGED_SCHEMA)
    def get_expunged(self, version: Version) -> dict | None:
        if version.expunged_at is None:
            return None
        if access.sees_expunge_details(_reader(self)):
            return ExpungedSerializer(version).data
        return PublicExpungedSerializer(version).data

    @extend_schema_field(RenditionSerializer(many=True))
    def get_renditions(self, version: Version) -> list[dict]:
        # `renditions` is prefetched by the views; each knows its version without a query.
        renditions = self._renditions_for_reader(version)
        for rendition in renditions:
            rendition.version = version
        return RenditionSerializer(renditions, many=True).data

    def _renditions_for_reader(self, version: Version) -> list[Rendition]:
        """The public reading the redacted copy is listed only that copy: the PDF/A, PDF and
        thumbnail show the original and answer it 404 (a client would show broken images)."""
        # Asked once per document (a query for the public), whatever the number of versions.
        known = self.context.setdefault("_reads_redacted", {})
        if version.document_id not in known:
            known[version.document_id] = redaction.reads_redacted(_reader(self), version.document)
        return redaction.renditions_shown(
            version.renditions.all(), only_redacted=known[version.document_id]
        )


class PaperOriginalSerializer(serializers.Serializer):
    """The document's paper original, as recorded when it was received."""

    received_on = serializers.DateField(
        source="paper_received_on", allow_null=True, help_text="Null: not received (yet)."
    )
    location = serializers.CharField(source="paper_location", allow_blank=True)
    note = serializers.CharField(source="paper_note", allow_blank=True)


class DocumentSerializer(serializers.ModelSerializer):
    """A document with all its versions (detail view)."""

    dossier = serializers.CharField(source="dossier.display_key")
    dossier_id = serializers.UUIDField(source="dossier.id")
    type = serializers.CharField(source="doc_type_id")
    type_label = serializers.SerializerMethodField()
    # Declared, because read-only model fields lose `allow_blank` and the schema would refuse "".
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)
    versions = VersionSerializer(many=True)
    url = serializers.SerializerMethodField()
    content_url = serializers.SerializerMethodField()
    barcode = serializers.SerializerMethodField(help_text=BARCODE_HELP)
    cover_sheet_url = serializers.SerializerMethodField()
    paper_original_expected = serializers.BooleanField(
        source="doc_type.paper_original_expected",
        read_only=True,
        help_text="Whether a paper original of this type of document is expected.",
    )
    paper_original = PaperOriginalSerializer(
        source="*",
        read_only=True,
        help_text="When the paper original was received (`received_on` null: not yet), where "
        "it is kept, a note.",
    )
    duplicates = serializers.SerializerMethodField(
        help_text="Near-duplicates found at intake (same text or same pages), in this dossier "
        "or another, that the caller may read; hints for review, nothing is merged. Empty for "
        "the public."
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "dossier",
            "dossier_id",
            "type",
            "type_label",
            "direction",
            "official_date",
            "channel",
            "language",
            "visibility",
            "redaction_required",
            "state",
            "cancel_reason",
            "cancelled_at",
            "title",
            "registry_id",
            "parent",
            "page_count",
            "latest_version",
            "expunged_at",
            "created_at",
            "updated_at",
            "url",
            "content_url",
            "barcode",
            "cover_sheet_url",
            "paper_original_expected",
            "paper_original",
            "duplicates",
            "versions",
        ]
        read_only_fields = fields

    def get_type_label(self, document: Document) -> str:
        return document.doc_type.label()

    def get_url(self, document: Document) -> str:
        return reverse("api:document-detail", args=[document.id])

    def get_content_url(self, document: Document) -> str:
        return reverse("api:document-content", args=[document.id])

    def get_barcode(self, document: Document) -> str:
        return coversheets.barcode_payload(document)

    def get_cover_sheet_url(self, document: Document) -> str:
        return reverse("api:document-cover-sheet", args=[document.id])

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_duplicates(self, document: Document) -> list[dict]:
        return near_duplicates.duplicates_for(document, _reader(self))


class DocumentListItemSerializer(DocumentSerializer):
    """A document in the file-wrapper listing: its latest version only, never its text."""

    latest = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        # Neither the versions nor the duplicates (a query a row): the detail view has them.
        fields = [
            f for f in DocumentSerializer.Meta.fields if f not in ("versions", "duplicates")
        ] + ["latest"]
        read_only_fields = fields

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_latest(self, document: Document) -> dict | None:
        versions = [v for v in document.versions.all() if v.number == document.latest_version]
        return VersionSerializer(versions[0], context=self.context).data if versions else None
