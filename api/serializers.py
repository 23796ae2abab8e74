"""What the API reads and writes. Field names are the integration vocabulary of issue #2.

A version's processing results (detected media type, page count, languages, metadata,
renditions) are the facts `dossier` records on it; `ingest.models` is read only for the
`processing` block, which shows how its run is going (presentation may show ingest's run state;
only the facts are for other subscribers)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.export import EXPORTABLE_RENDITIONS
from api.problems import Problem
from dossier.feed import feed_item
from dossier.models import (
    Channel,
    Direction,
    Document,
    DocumentType,
    Dossier,
    Event,
    IpType,
    Rendition,
    Version,
    Visibility,
)
from ingest.models import Processing, State
from search.criteria import CommaListField, DocumentFilterSerializer

# Re-exported: the API's search view reads its parameters with it.
from search.criteria import SearchParamsSerializer as SearchParamsSerializer


def document_type(code: str) -> DocumentType:
    found = DocumentType.objects.filter(code=code.strip().upper(), active=True).first()
    if found is None:
        raise Problem(
            "unknown-document-type", f"document type {code!r} is not in the table", field="type"
        )
    return found


def reject_nul_characters(value) -> None:
    """Refuse U+0000 anywhere in a JSON value: PostgreSQL cannot store it in `jsonb` (DRF's
    CharField refuses it; JSONField does not)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul_characters(key)
            reject_nul_characters(item)
    elif isinstance(value, list):
        for item in value:
            reject_nul_characters(item)


class PriorityClaimSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=2)
    number = serializers.CharField(max_length=100)
    date = serializers.DateField()


class DossierSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="display_key", read_only=True)
    normalized_key = serializers.CharField(source="key", read_only=True)
    applicants = serializers.ListField(child=serializers.JSONField())
    representatives = serializers.ListField(child=serializers.JSONField())
    priority_claims = PriorityClaimSerializer(many=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id",
            "key",
            "normalized_key",
            "raw_key",
            "ip_type",
            "title",
            "applicants",
            "representatives",
            "filing_date",
            "published_at",
            "registration_date",
            "status",
            "language",
            "priority_claims",
            "secret",
            "paper_location",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, dossier: Dossier) -> str:
        return reverse("api:dossier-detail", args=[dossier.key])


class TextStatusSerializer(serializers.Serializer):
    """How many of the dossier's active documents (latest versions) can be searched."""

    searchable = serializers.IntegerField()
    processing = serializers.IntegerField()
    failed = serializers.IntegerField()
    without_text = serializers.IntegerField(help_text="Processed, but with nothing to read.")
    total = serializers.IntegerField()


class DossierDetailSerializer(DossierSerializer):
    """One dossier, with the text status of the documents the caller may see.

    Expects `context["text_status"]` (computed in one query by `ingest.status.text_status`)."""

    text_status = serializers.SerializerMethodField()

    class Meta(DossierSerializer.Meta):
        fields = [*DossierSerializer.Meta.fields, "text_status"]
        read_only_fields = fields

    @extend_schema_field(TextStatusSerializer)
    def get_text_status(self, dossier: Dossier) -> dict:
        return self.context["text_status"]


class DossierWriteSerializer(serializers.Serializer):
    """PUT body: the registry's data. Omitted fields keep their values."""

    ip_type = serializers.ChoiceField(choices=IpType.choices, required=False)
    title = serializers.CharField(required=False, allow_blank=True)
    applicants = serializers.ListField(
        child=serializers.JSONField(validators=[reject_nul_characters]), required=False
    )
    representatives = serializers.ListField(
        child=serializers.JSONField(validators=[reject_nul_characters]), required=False
    )
    filing_date = serializers.DateField(required=False, allow_null=True)
    published_at = serializers.DateField(required=False, allow_null=True)
    registration_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.CharField(required=False, allow_blank=True, max_length=64)
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    priority_claims = PriorityClaimSerializer(many=True, required=False)
    secret = serializers.BooleanField(required=False)
    paper_location = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "priority_claims" in values:
            values["priority_claims"] = [
                {**claim, "date": claim["date"].isoformat()} for claim in values["priority_claims"]
            ]
        return values


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
            "steps",
            "attempts",
            "started_at",
            "finished_at",
            "renditions_state",
        ]
        read_only_fields = fields


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
    renditions = serializers.SerializerMethodField()

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
            "renditions",
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

    def get_text_url(self, version: Version) -> str | None:
        processing = self._processing(version)
        if processing is None or processing.state != State.DONE:
            return None
        return reverse("api:version-text", args=[version.document_id, version.number])

    @extend_schema_field(RenditionSerializer(many=True))
    def get_renditions(self, version: Version) -> list[dict]:
        # `renditions` is prefetched by the views; each knows its version without a query.
        renditions = list(version.renditions.all())
        for rendition in renditions:
            rendition.version = version
        return RenditionSerializer(renditions, many=True).data


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
            "state",
            "cancel_reason",
            "cancelled_at",
            "title",
            "registry_id",
            "parent",
            "page_count",
            "latest_version",
            "created_at",
            "updated_at",
            "url",
            "content_url",
            "versions",
        ]
        read_only_fields = fields

    def get_type_label(self, document: Document) -> str:
        return document.doc_type.label()

    def get_url(self, document: Document) -> str:
        return reverse("api:document-detail", args=[document.id])

    def get_content_url(self, document: Document) -> str:
        return reverse("api:document-content", args=[document.id])


class DocumentListItemSerializer(DocumentSerializer):
    """A document in the file-wrapper listing: its latest version only, never its text."""

    latest = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = [f for f in DocumentSerializer.Meta.fields if f != "versions"] + ["latest"]
        read_only_fields = fields

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_latest(self, document: Document) -> dict | None:
        versions = [v for v in document.versions.all() if v.number == document.latest_version]
        return VersionSerializer(versions[0]).data if versions else None


class ExportParamsSerializer(DocumentFilterSerializer):
    """Query parameters of `GET /dossiers/{key}/export`: the listing's filters, and what to add."""

    state = None  # cancelled documents come in through include_cancelled, held scans never
    versions = serializers.ChoiceField(choices=["latest", "all"], default="latest")
    # `renditions=pdfa` or `renditions=pdfa,pdf` or repeated.
    renditions = CommaListField(required=False)
    include_cancelled = serializers.BooleanField(default=False)

    def validate_renditions(self, values: list[str]) -> list[str]:
        kinds = [kind.lower() for kind in values]
        allowed = [str(kind) for kind in EXPORTABLE_RENDITIONS]
        unknown = sorted(set(kinds) - set(allowed))
        if unknown:
            raise serializers.ValidationError(
                f"unknown rendition {', '.join(unknown)}; one of {', '.join(allowed)}"
            )
        return list(dict.fromkeys(kinds))

    def filters(self) -> dict:
        """The listing filters given, for the manifest."""
        names = set(DocumentFilterSerializer().fields) - {"state"}
        return {k: v for k, v in self.validated_data.items() if k in names}

    def selection(self):
        """What to put in the package, from the validated parameters (`api.export.Selection`)."""
        from api.export import Selection

        data = self.validated_data
        return Selection(
            all_versions=data["versions"] == "all",
            renditions=tuple(data.get("renditions", ())),
            include_cancelled=data["include_cancelled"],
            filters=self.filters(),
        )


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
    dossier = serializers.CharField(required=False, help_text="Move to this dossier (file number).")
    state = serializers.ChoiceField(choices=["cancelled"], required=False)
    cancel_reason = serializers.CharField(required=False, allow_blank=True)

    def validate_type(self, code: str) -> DocumentType:
        return document_type(code)

    def validate(self, attrs):
        if attrs.get("state") == "cancelled" and not attrs.get("cancel_reason", "").strip():
            raise serializers.ValidationError({"cancel_reason": "a reason is required to cancel"})
        return attrs


class EventSerializer(serializers.ModelSerializer):
    cursor = serializers.CharField(source="id")
    document = serializers.UUIDField(source="document_id", allow_null=True)
    dossier = serializers.CharField(source="dossier_key")

    class Meta:
        model = Event
        fields = ["cursor", "kind", "at", "dossier", "document", "version", "payload"]
        read_only_fields = fields

    def to_representation(self, instance: Event) -> dict:
        # The fields above describe it (OpenAPI); the item itself is the one webhooks deliver.
        return feed_item(instance)


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.CharField()
    has_more = serializers.BooleanField()


class SearchHitSerializer(serializers.Serializer):
    document = serializers.UUIDField()
    version = serializers.IntegerField()
    dossier = serializers.CharField()
    dossier_title = serializers.CharField()
    title = serializers.CharField()
    type = serializers.CharField()
    direction = serializers.CharField()
    official_date = serializers.DateField(allow_null=True)
    language = serializers.CharField()
    state = serializers.CharField()
    score = serializers.FloatField(
        help_text="Relevance (or the date as a number when sorted by date)."
    )
    snippets = serializers.ListField(
        child=serializers.CharField(),
        help_text="HTML: the text is escaped; only <mark> tags wrap the words found.",
    )
    pages = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), help_text="Page of each snippet."
    )


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class SearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = SearchHitSerializer(many=True)
    facets = serializers.DictField(child=FacetValueSerializer(many=True))


class SearchStatusSerializer(serializers.Serializer):
    lag = serializers.DictField()
    engine = serializers.DictField()
