"""Near-duplicate flags (issue 20, point 2): on a document's representation, and in the review
list records staff work through (`similarity.near_duplicates`)."""

from __future__ import annotations

from rest_framework import serializers

from similarity import near_duplicates
from similarity.duplicate_models import DuplicateFlag, DuplicateStatus

RELATIONS = [
    ("refiling_of", "This document is probably a re-filing of the other"),
    ("refiled_as", "The other document is probably a re-filing of this one"),
]


PAGE_DISTANCE_HELP = (
    "How many bits of 256 the perceptual hashes of the least alike of the pages found the same "
    "differ; null when the pages are not alike."
)
PAGES_SAME_HELP = (
    "How many pages of the re-filing are the same as pages of the original; null when the "
    "pages are not alike (or for a flag raised when only first pages were compared)."
)
PAGES_COMPARED_HELP = "Of how many pages of the re-filing (not blank, up to the hashing cap)."


class DuplicateSerializer(serializers.Serializer):
    """A near-duplicate of a document, as its representation lists it."""

    flag = serializers.IntegerField(help_text="The flag's id (for its review).")
    relation = serializers.ChoiceField(choices=RELATIONS)
    document = serializers.UUIDField()
    dossier = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    text_similarity = serializers.FloatField(
        allow_null=True,
        help_text="Estimated Jaccard similarity of the texts' word 5-grams (0..1); null when "
        "the texts are not alike (or either has too little text).",
    )
    page_distance = serializers.IntegerField(
        allow_null=True,
        help_text=PAGE_DISTANCE_HELP,
    )
    pages_same = serializers.IntegerField(allow_null=True, help_text=PAGES_SAME_HELP)
    pages_compared = serializers.IntegerField(allow_null=True, help_text=PAGES_COMPARED_HELP)
    reason = serializers.CharField(
        help_text='Why, in a sentence: e.g. "3 of 4 pages the same as BG/P/2024/000001 — '
        'Claims" (of the re-filing), "3 of 4 pages of … the same as this document\'s" (of '
        'the original), "text 93 % alike".'
    )
    status = serializers.ChoiceField(choices=DuplicateStatus.choices)


class DuplicateFlagSerializer(serializers.ModelSerializer):
    """A flag in the review list: `document` is probably a re-filing of `original`."""

    document = serializers.UUIDField(source="document_id")
    dossier = serializers.CharField(source="document.dossier.display_key")
    version = serializers.IntegerField(source="version.number")
    original = serializers.UUIDField(source="original_id")
    original_dossier = serializers.CharField(source="original.dossier.display_key")
    original_version = serializers.IntegerField(source="original_version.number")
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)
    reason = serializers.SerializerMethodField(
        help_text='Why, in a sentence: e.g. "3 of 4 pages the same as BG/P/2024/000001 — '
        'Claims", "text 93 % alike".'
    )

    class Meta:
        model = DuplicateFlag
        fields = [
            "id",
            "document",
            "dossier",
            "version",
            "original",
            "original_dossier",
            "original_version",
            "text_similarity",
            "page_distance",
            "pages_same",
            "pages_compared",
            "reason",
            "status",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "page_distance": {"help_text": PAGE_DISTANCE_HELP},
            "pages_same": {"help_text": PAGES_SAME_HELP},
            "pages_compared": {"help_text": PAGES_COMPARED_HELP},
        }

    def get_reason(self, flag: DuplicateFlag) -> str:
        return near_duplicates.describe(flag, other=flag.original)


class DuplicateReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=DuplicateStatus.choices,
        help_text="`reviewed`: a duplicate indeed; `not_duplicate`; `open` undoes a review.",
    )
