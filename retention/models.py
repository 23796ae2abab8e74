"""Retention rules, the disposition queue, and a record of each daily scan."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from dossier.case_events import CaseEventKind
from dossier.models import Document, DocumentType, IpType


class RetentionRule(models.Model):
    """How long documents are kept: of one IP type and/or one document type (empty: any), either
    for good or `years` after the latest case event of one of the `triggers` kinds.

    The most specific rule for a document decides (IP type and document type, then document
    type, then IP type, then the catch-all); among equally specific ones, permanence and then
    the longest period win (`retention.rules.rule_for`)."""

    ip_type = models.CharField(
        max_length=20, choices=IpType.choices, blank=True, help_text="Empty: every IP type."
    )
    doc_type = models.ForeignKey(
        DocumentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: every document type.",
    )
    permanent = models.BooleanField(default=False, help_text="Kept for good: never disposed of.")
    years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Kept this many years after the trigger event."
    )
    triggers = models.JSONField(
        default=list,
        blank=True,
        help_text="Case event kinds the period counts from (the latest of them), e.g. "
        '["lapse", "withdrawal"].',
    )
    note = models.CharField(max_length=300, blank=True, help_text="The law or policy it follows.")

    class Meta:
        ordering = ["ip_type", "doc_type_id", "id"]

    def __str__(self) -> str:
        scope = f"{self.ip_type or 'any IP type'} / {self.doc_type_id or 'any document type'}"
        if self.permanent:
            return f"{scope}: permanent"
        return f"{scope}: {self.years} years after {' or '.join(self.triggers)}"

    def clean(self) -> None:
        if self.permanent and self.years is not None:
            raise ValidationError({"years": "a permanent rule has no period"})
        if self.permanent:
            return
        if self.years is None:
            raise ValidationError({"years": "give a period in years, or make the rule permanent"})
        kinds = set(CaseEventKind.values)
        if not isinstance(self.triggers, list) or not self.triggers:
            raise ValidationError({"triggers": "name the case events the period counts from"})
        if unknown := [t for t in self.triggers if t not in kinds]:
            raise ValidationError(
                {"triggers": f"unknown case event kinds: {', '.join(map(str, unknown))}"}
            )


class DispositionState(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    DISPOSING = "disposing", "Approved, being expunged"
    DISPOSED = "disposed", "Expunged"
    # Left the queue without being disposed of: a legal hold came, or the case moved on (a
    # restoration, a changed rule) so that the document is no longer due.
    WITHDRAWN = "withdrawn", "Withdrawn"


class DispositionItem(models.Model):
    """A document whose retention period has ended, waiting for a records manager's approval.
    Rows stay after the decision, as the record of what was disposed of, when and by whom."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(RetentionRule, on_delete=models.SET_NULL, null=True, related_name="+")
    rule_text = models.CharField(max_length=300, help_text="The rule as it read when queued.")
    trigger_kind = models.CharField(max_length=32, choices=CaseEventKind.choices)
    trigger_date = models.DateField()
    due_on = models.DateField()
    state = models.CharField(
        max_length=12, choices=DispositionState.choices, default=DispositionState.PENDING
    )
    queued_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by_label = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_on", "queued_at", "id"]
        constraints = [
            # One open item a document: the scan is safe to run twice.
            models.UniqueConstraint(
                fields=["document"],
                condition=models.Q(state__in=["pending", "disposing"]),
                name="disposition_one_open_item_per_document",
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id} due {self.due_on} ({self.state})"


class RetentionScan(models.Model):
    """One run of the daily scan: when, as of which day, what it queued and withdrew."""

    ran_at = models.DateTimeField(db_index=True)
    as_of = models.DateField()
    queued = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} +{self.queued} -{self.withdrawn}"
