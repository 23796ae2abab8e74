"""A dossier's legal-status case events, as recorded and as listed."""

from __future__ import annotations

from rest_framework import serializers

from dossier.case_events import CaseEventKind
from dossier.models import CaseEvent


class CaseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "date", "wipo_code", "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class CaseEventWriteSerializer(serializers.Serializer):
    """POST body. The WIPO code is checked against the dossier's IP type by the action."""

    kind = serializers.ChoiceField(choices=CaseEventKind.choices)
    date = serializers.DateField(help_text="The day the event took legal effect (YYYY-MM-DD).")
    wipo_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=8,
        help_text="WIPO legal-status category code: ST.27 (patents, utility models, SPCs), "
        "ST.61 (trademarks) or ST.87 (designs), e.g. B10.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
