"""A dossier's audit trail as the API lists it: each row's hashed fields and its chain links."""

from __future__ import annotations

from rest_framework import serializers


class AuditEntrySerializer(serializers.Serializer):
    """One audit row, as `edms audit export` writes it (see `dossier.audit_export.entry`)."""

    seq = serializers.IntegerField(
        allow_null=True, help_text="The row's place in the chain (null: written unchained)."
    )
    at = serializers.CharField(help_text="When, in UTC with microseconds (ISO 8601).")
    actor = serializers.CharField(help_text="The acting user's id, empty for the system.")
    actor_label = serializers.CharField()
    action = serializers.CharField(help_text="What was done, e.g. `document.download`.")
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    dossier_key = serializers.CharField()
    request_id = serializers.CharField()
    client_address = serializers.CharField(help_text="The caller's address, empty if none.")
    detail = serializers.DictField(help_text="What else the action recorded.")
    prev_hash = serializers.CharField(help_text="The previous row's hash (SHA-256, hex).")
    row_hash = serializers.CharField(
        help_text="SHA-256 of `prev_hash`, ':' and the SHA-256 of the row's canonical content."
    )
