"""Criteria for finding documents, read from query parameters: the file-wrapper listing's
filters and the search's parameters.

The API and the UI read the same parameters the same way, with the same messages for bad
values; these are DRF serializers because the API documents them (its OpenAPI parameters) and
reports their errors as its validation problems.
"""

from __future__ import annotations

from rest_framework import serializers

from dossier.models import Direction, DocumentState, Visibility


class CommaListField(serializers.ListField):
    """`a,b`, `x=a&x=b` in a query string, or a plain string or list in a dict: a flat list."""

    child = serializers.CharField()

    def to_internal_value(self, data):
        values = [data] if isinstance(data, str) else super().to_internal_value(data)
        return [item.strip() for value in values for item in value.split(",") if item.strip()]


class DocumentFilterSerializer(serializers.Serializer):
    """Query parameters of the file-wrapper listing."""

    # `type=CLM,DESC` or `type=CLM&type=DESC`.
    type = CommaListField(required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    state = serializers.ChoiceField(choices=DocumentState.choices, required=False)

    def apply(self, documents):
        data = self.validated_data
        if "type" in data:
            documents = documents.filter(doc_type__in=[c.upper() for c in data["type"]])
        if "direction" in data:
            documents = documents.filter(direction=data["direction"])
        if "date_from" in data:
            documents = documents.filter(official_date__gte=data["date_from"])
        if "date_to" in data:
            documents = documents.filter(official_date__lte=data["date_to"])
        if "visibility" in data:
            documents = documents.filter(visibility=data["visibility"])
        if "state" in data:
            documents = documents.filter(state=data["state"])
        return documents


class SearchParamsSerializer(serializers.Serializer):
    """Query parameters of `GET /search`. List filters take `a,b` or repeated parameters."""

    q = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    dossier = serializers.CharField(required=False, default="")
    date_from = serializers.DateField(required=False, default=None)
    date_to = serializers.DateField(required=False, default=None)
    sort = serializers.ChoiceField(choices=["relevance", "date"], default="relevance")
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)

    LIST_PARAMS = {
        "type": "types",
        "direction": "directions",
        "lang": "languages",
        "ip_type": "ip_types",
        "status": "statuses",
        "year": "years",
    }

    @classmethod
    def list_values(cls, query_params) -> dict[str, list[str]]:
        values = {}
        for param, name in cls.LIST_PARAMS.items():
            raw = query_params.getlist(param)
            values[name] = [v.strip() for item in raw for v in item.split(",") if v.strip()]
        return values
