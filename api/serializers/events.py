"""The event feed's items and pages."""

from __future__ import annotations

from rest_framework import serializers

from dossier.feed import feed_item
from dossier.models import Event


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
        # Written for the caller: the view passes the request in the context.
        return feed_item(instance, self.context["request"].user)


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.CharField()
    has_more = serializers.BooleanField()
