"""What the exchange services keep: CASE callers and their tokens, search-report citations per
dossier, and the document-type crosswalk to other offices' codes. The DAS requests live with
their service (`exchange.das.models`) and are imported here so that Django finds them."""

from __future__ import annotations

import uuid

from django.db import models

from dossier.models import DocumentType, Dossier
from exchange.das.models import DasRequest

__all__ = [
    "CaseClient",
    "CaseToken",
    "Citation",
    "CitationKind",
    "DasRequest",
    "DocumentTypeCrosswalk",
]


class CaseClient(models.Model):
    """An office (or WIPO CASE itself) allowed to call edms's CASE providing service with OAuth2
    client credentials. The secret is shown once when the client is made and kept only hashed."""

    client_id = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the client secret.")
    name = models.CharField(max_length=200, help_text="Who the client is, for people.")
    office_code = models.CharField(
        max_length=2, help_text="The calling office's WIPO ST.3 code (WO for WIPO CASE)."
    )
    active = models.BooleanField(default=True, help_text="Clear to refuse the client at once.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_token_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["office_code", "name"]
        verbose_name = "CASE client"

    def __str__(self) -> str:
        return f"{self.office_code} {self.name} ({self.client_id})"


class CaseToken(models.Model):
    """A short-lived bearer token issued to a client; only its SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(CaseClient, on_delete=models.CASCADE, related_name="tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "CASE token"


class CitationKind(models.TextChoices):
    PATENT = "patent", "Patent literature"
    NPL = "npl", "Non-patent literature"


# WIPO ST.14 categories of cited documents (the letters a search report puts before a citation).
CITATION_CATEGORIES = ("X", "Y", "A", "D", "E", "L", "O", "P", "T", "&")


class Citation(models.Model):
    """One document cited in a search report of the dossier, kept in the shape of ST.96's
    reference citation: a patent document (office, number, kind, date) or NPL text, with its
    categories, the claims it is relevant to and the passages cited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=CitationKind.choices)
    categories = models.JSONField(default=list, help_text="ST.14 letters, e.g. ['X', 'Y'].")
    office_code = models.CharField(max_length=2, blank=True)
    document_number = models.CharField(max_length=64, blank=True)
    kind_code = models.CharField(max_length=4, blank=True)
    document_date = models.DateField(null=True, blank=True)
    npl_text = models.TextField(blank=True)
    claims = models.CharField(max_length=200, blank=True, help_text="e.g. 1-3, 7")
    passages = models.JSONField(default=list, blank=True, help_text="e.g. ['p. 3, l. 5-20'].")
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["dossier", "recorded_at"])]

    def __str__(self) -> str:
        if self.kind == CitationKind.NPL:
            return self.npl_text[:60]
        return f"{self.office_code}{self.document_number}{self.kind_code}"


class DocumentTypeCrosswalk(models.Model):
    """How one edms document type is named by other offices' systems: its WIPO CASE
    `documentCodeCategory` (and group), its USPTO document code and its EPO code. A blank code
    means "not mapped": CASE then does not share documents of the type (`exchange.case.sharing`)."""

    doc_type = models.OneToOneField(
        DocumentType, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    case_code = models.CharField("CASE documentCodeCategory", max_length=20, blank=True)
    case_group = models.CharField("CASE documentGroupCategory", max_length=40, blank=True)
    uspto_code = models.CharField("USPTO document code", max_length=20, blank=True)
    epo_code = models.CharField("EPO code", max_length=20, blank=True)
    translation = models.BooleanField(
        default=False, help_text="Documents of the type are translations (CASE: translation)."
    )

    class Meta:
        ordering = ["doc_type"]
        verbose_name = "document-type crosswalk"

    def __str__(self) -> str:
        return f"{self.doc_type_id} ↔ {self.case_code or '—'}"
