"""Similar marks (issue 20, point 3): the query and its answers (`similarity.marks`)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from dossier import vienna
from dossier.models import IpType

MARK_IP_TYPES = [(IpType.TRADEMARK.value, "Trademark"), (IpType.DESIGN.value, "Industrial design")]


class SimilarMarksQuerySerializer(serializers.Serializer):
    image = serializers.FileField(help_text="The image to compare (PNG, JPEG, WebP, GIF, ...).")
    ip_type = serializers.MultipleChoiceField(
        choices=MARK_IP_TYPES, required=False, help_text="Only dossiers of these IP types."
    )
    status = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=20,
        help_text="Only dossiers with one of these statuses (as the registry reports them).",
    )
    vienna = serializers.ListField(
        child=serializers.CharField(max_length=8),
        required=False,
        max_length=20,
        help_text="Only dossiers with a Vienna code under one of these: a whole code (26.01.03), "
        "a division (26.01) or a category (26). Dossiers the registry gave no codes are left out.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)

    def validate_vienna(self, values: list[str]) -> list[str]:
        try:
            return vienna.clean_prefixes(values)
        except vienna.InvalidViennaCode as exc:
            raise serializers.ValidationError(str(exc)) from None


class SimilarMarkSerializer(serializers.Serializer):
    document = serializers.UUIDField(source="mark.document_id")
    version = serializers.IntegerField(source="mark.version.number")
    dossier = serializers.CharField(source="mark.document.dossier.display_key")
    ip_type = serializers.CharField(source="mark.document.dossier.ip_type")
    status = serializers.CharField(source="mark.document.dossier.status", allow_blank=True)
    title = serializers.CharField(source="mark.document.dossier.title", allow_blank=True)
    score = serializers.FloatField(
        help_text="Shape similarity, -1..1 (1: the same figure); the list is best first."
    )
    vienna_codes = serializers.ListField(
        child=serializers.CharField(),
        source="mark.document.dossier.vienna_codes",
        help_text="The dossier's Vienna codes, as the registry supplied them (may be empty).",
    )
    image_url = serializers.SerializerMethodField(help_text="The mark's first-page image.")

    def get_image_url(self, found) -> str:
        version = found.mark.version
        return reverse(
            "api:version-rendition", args=[version.document_id, version.number, "thumbnail"]
        )


class SimilarMarksSerializer(serializers.Serializer):
    results = SimilarMarkSerializer(many=True)
