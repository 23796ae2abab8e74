"""Search results and the search engine's status. The parameters (and the listing filters)
are read by `search.criteria`, shared with the web UI, and re-exported here."""

from __future__ import annotations

from rest_framework import serializers

from search.criteria import DocumentFilterSerializer, SearchParamsSerializer

__all__ = [
    "DocumentFilterSerializer",
    "FacetValueSerializer",
    "SearchHitSerializer",
    "SearchParamsSerializer",
    "SearchResultSerializer",
    "SearchStatusSerializer",
]


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
