"""WIPO CASE in the API: the token endpoint's answer, the providing service's answers (named as
WIPO publishes them, `exchange.case.shapes`), and search-report citations in ST.96's shape,
which the edms API reads and writes in the same form CASE serves them."""

from __future__ import annotations

from rest_framework import serializers

from exchange.models import CITATION_CATEGORIES


class TokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=["client_credentials"])
    client_id = serializers.CharField(
        required=False, help_text="Or send the credentials with HTTP Basic authentication."
    )
    client_secret = serializers.CharField(required=False)
    scope = serializers.CharField(required=False, help_text="Ignored: one scope, CASE reads.")


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the token lasts.")


class ApplicationNumberSerializer(serializers.Serializer):
    ipOfficeCode = serializers.CharField()
    applicationNumberText = serializers.CharField()


class CaseDocumentSerializer(serializers.Serializer):
    id = serializers.CharField()
    languageCode = serializers.CharField(allow_null=True)
    sourceSystemIdentifier = serializers.CharField()
    documentName = serializers.CharField()
    documentDescription = serializers.CharField()
    documentFormatCategory = serializers.CharField()
    documentKindCategory = serializers.CharField()
    documentCodeCategory = serializers.CharField()
    documentDate = serializers.DateField()
    documentLocationURI = serializers.URLField()
    documentSizeQuantity = serializers.IntegerField()
    documentPageQuantity = serializers.IntegerField(allow_null=True)
    documentNumber = serializers.CharField()
    documentLanguageSource = serializers.ChoiceField(choices=["original", "translation"])
    documentOrigin = serializers.ChoiceField(choices=["incoming", "outgoing"])
    documentGroupCategory = serializers.ListField(child=serializers.CharField())
    documentStatusCategory = serializers.CharField()
    nplIndicator = serializers.BooleanField()


class CaseDocumentIncludedSerializer(serializers.Serializer):
    documentIncluded = CaseDocumentSerializer()


class DoclistSerializer(serializers.Serializer):
    applicationNumber = ApplicationNumberSerializer()
    documentTotalQuantity = serializers.IntegerField()
    sorting = serializers.CharField()
    documentIncludedBag = CaseDocumentIncludedSerializer(many=True)


class CitedPatentDocumentSerializer(serializers.Serializer):
    ipOfficeCode = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ST.3 office code.")
    documentNumber = serializers.CharField(max_length=64)
    patentDocumentKindCode = serializers.CharField(
        max_length=4, required=False, allow_null=True, allow_blank=True
    )
    patentDocumentDate = serializers.DateField(required=False, allow_null=True)


class PatentCitationSerializer(serializers.Serializer):
    citedPatentDocumentIdentification = CitedPatentDocumentSerializer()


class NplCitationSerializer(serializers.Serializer):
    nplCitationText = serializers.CharField(max_length=4000)


class CitationSerializer(serializers.Serializer):
    """One reference citation of a search report (ST.96): a patent document or NPL."""

    patentCitation = PatentCitationSerializer(required=False)
    nplCitation = NplCitationSerializer(required=False)
    citationCategoryCodes = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CITATION_CATEGORIES)),
        min_length=1,
        max_length=len(CITATION_CATEGORIES),
        help_text="ST.14 categories: X, Y, A, D, E, L, O, P, T, &.",
    )
    patentClaimRange = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True, help_text="e.g. 1-3, 7"
    )
    citedPassageBag = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        max_length=100,
        help_text="Cited passages, e.g. 'page 3, lines 5-20'.",
    )

    def validate(self, attrs):
        if ("patentCitation" in attrs) == ("nplCitation" in attrs):
            raise serializers.ValidationError(
                {"patentCitation": "give a patentCitation or an nplCitation (one of them)"}
            )
        return attrs

    def action_arguments(self) -> dict:
        """The validated citation as `exchange.case.citations.record_citation` takes it."""
        data = self.validated_data
        arguments = {
            "categories": data["citationCategoryCodes"],
            "claims": data.get("patentClaimRange") or "",
            "passages": data.get("citedPassageBag", []),
        }
        if "nplCitation" in data:
            arguments["npl_text"] = data["nplCitation"]["nplCitationText"]
            return arguments
        cited = data["patentCitation"]["citedPatentDocumentIdentification"]
        arguments.update(
            office_code=cited["ipOfficeCode"],
            document_number=cited["documentNumber"],
            kind_code=cited.get("patentDocumentKindCode") or "",
            document_date=cited.get("patentDocumentDate"),
        )
        return arguments


class CitationListSerializer(serializers.Serializer):
    applicationNumber = ApplicationNumberSerializer()
    referenceCitationBag = CitationSerializer(many=True)
