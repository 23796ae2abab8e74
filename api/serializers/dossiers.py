"""A dossier as read (with its documents' text status) and written, and the parameters of its
export."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.export import EXPORTABLE_RENDITIONS, Selection
from api.serializers.validation import reject_nul_characters
from dossier import vienna
from dossier.actions import DOSSIER_FIELDS
from dossier.models import Dossier, IpType
from search.criteria import CommaListField, DocumentFilterSerializer


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
    vienna_codes = serializers.ListField(child=serializers.CharField())
    url = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        # The registry's fields as `upsert_dossier` takes them, between the keys and the stamps.
        fields = [
            "id",
            "key",
            "normalized_key",
            "raw_key",
            *DOSSIER_FIELDS,
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
    vienna_codes = serializers.ListField(
        child=serializers.CharField(max_length=8),
        required=False,
        max_length=vienna.MAX_CODES,
        help_text="Vienna classification of the mark's figurative elements: codes "
        "category.division.section, two digits each (26.01.03). Kept sorted, without repeats.",
    )
    secret = serializers.BooleanField(required=False)
    paper_location = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_vienna_codes(self, values: list[str]) -> list[str]:
        try:
            return vienna.clean_codes(values)
        except vienna.InvalidViennaCode as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "priority_claims" in values:
            values["priority_claims"] = [
                {**claim, "date": claim["date"].isoformat()} for claim in values["priority_claims"]
            ]
        return values


class ExportParamsSerializer(DocumentFilterSerializer):
    """Query parameters of `GET /dossiers/{key}/export`: the listing's filters, and what to add."""

    state = None  # cancelled documents come in through include_cancelled, held scans never
    versions = serializers.ChoiceField(choices=["latest", "all"], default="latest")
    # `renditions=pdfa` or `renditions=pdfa,pdf` or repeated.
    renditions = CommaListField(required=False)
    include_cancelled = serializers.BooleanField(default=False)
    annotations = serializers.BooleanField(default=False)

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
        data = self.validated_data
        return Selection(
            all_versions=data["versions"] == "all",
            renditions=tuple(data.get("renditions", ())),
            include_cancelled=data["include_cancelled"],
            annotations=data["annotations"],
            filters=self.filters(),
        )
