"""Legal holds and the disposition queue, as listed and as written."""

from __future__ import annotations

from rest_framework import serializers

from dossier.models import LegalHold
from retention.models import DispositionItem


class LegalHoldSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "document",
            "reason",
            "reference",
            "placed_by",
            "placed_at",
            "active",
            "released_by",
            "released_at",
            "release_reason",
        ]
        read_only_fields = fields


class LegalHoldWriteSerializer(serializers.Serializer):
    """POST body: a hold on the whole dossier, or on one of its documents."""

    reason = serializers.CharField(max_length=2000)
    reference = serializers.CharField(
        max_length=200, help_text="The court case, order or request the hold follows."
    )
    document = serializers.UUIDField(
        required=False, help_text="Hold only this document of the dossier (default: all of it)."
    )


class LegalHoldReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DispositionItemSerializer(serializers.ModelSerializer):
    dossier = serializers.CharField(source="document.dossier.key", read_only=True)
    doc_type = serializers.CharField(source="document.doc_type_id", read_only=True)

    class Meta:
        model = DispositionItem
        fields = [
            "id",
            "document",
            "dossier",
            "doc_type",
            "rule_text",
            "trigger_kind",
            "trigger_date",
            "due_on",
            "state",
            "queued_at",
            "decided_by_label",
            "decided_at",
            "withdrawn_reason",
        ]
        read_only_fields = fields


class DispositionApprovalSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=1000,
        help_text="Ids of pending items (at most EDMS_DISPOSITION_BATCH).",
    )


class DispositionOutcomeSerializer(serializers.Serializer):
    disposed = serializers.ListField(child=serializers.IntegerField())
    held = serializers.ListField(
        child=serializers.IntegerField(), help_text="Refused: a legal hold came first."
    )
    skipped = serializers.ListField(
        child=serializers.IntegerField(), help_text="Not pending (decided, withdrawn, unknown)."
    )
