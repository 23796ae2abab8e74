"""Upload sessions (`/api/v1/upload-sessions`): the declaration read, the session as answered."""

from __future__ import annotations

from rest_framework import serializers

from dossier.bucket_uploads import DEFAULT_PART_SIZE, MAX_PART_SIZE, MIN_PART_SIZE


class UploadSessionCreateSerializer(serializers.Serializer):
    size = serializers.IntegerField(min_value=0, help_text="The file's length in bytes.")
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", help_text="The file's SHA-256 (hex): checked at the commit."
    )
    filename = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    media_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    dossier = serializers.CharField(
        required=False, max_length=100, help_text="A new document: its dossier's file number."
    )
    type = serializers.CharField(
        required=False, max_length=20, help_text="A new document: its document type."
    )
    document = serializers.UUIDField(
        required=False, help_text="A new version of this document (instead of dossier + type)."
    )
    part_size = serializers.IntegerField(
        required=False,
        min_value=MIN_PART_SIZE,
        max_value=MAX_PART_SIZE,
        help_text=f"Bytes per part (default {DEFAULT_PART_SIZE}; at most 10,000 parts).",
    )

    def target(self) -> dict[str, str]:
        data = self.validated_data
        return {name: str(data[name]) for name in ("dossier", "type", "document") if data.get(name)}


class UploadPartSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    offset = serializers.IntegerField(help_text="Where the part starts in the file.")
    size = serializers.IntegerField()
    received = serializers.BooleanField()
    url = serializers.URLField(
        required=False,
        help_text="PUT the part's bytes here, with no credentials (the URL carries them); "
        "absent once the session is committed.",
    )


class UploadSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(
        ["open", "committing", "filed", "refused"],
        help_text="`open`: takes parts; `filed`/`refused`: the commit's outcome.",
    )
    store = serializers.ChoiceField(["s3", "filesystem"], help_text="Where the parts go.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    filename = serializers.CharField()
    part_size = serializers.IntegerField()
    part_count = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    parts = UploadPartSerializer(many=True)
    missing_parts = serializers.ListField(child=serializers.IntegerField())
    document = serializers.UUIDField(allow_null=True, help_text="Filed: the document.")
    version = serializers.IntegerField(allow_null=True, help_text="Filed: its version number.")
    problem = serializers.DictField(
        allow_null=True, help_text="Refused: the problem the commit answered."
    )
