"""One request to DAS (a registration, a retrieval or a withdrawal) and where it stands.

A request changes only through `exchange.das.requests_` (started) and `exchange.das.progress`
(moved on by its task). Every change of state is audited on its dossier.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from dossier.models import Document, Dossier


class Role(models.TextChoices):
    OFF = "OFF", _("Office of first filing")
    OSF = "OSF", _("Office of second filing")


class Operation(models.TextChoices):
    # The values are DAS's own `operationCategory`.
    REGISTRATION = "registration", _("Registration")
    RETRIEVAL = "retrieval", _("Retrieval")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


class State(models.TextChoices):
    QUEUED = "queued", _("Queued")  # not yet sent to DAS
    PENDING = "pending", _("Pending at DAS")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # A registration that was later withdrawn (by a withdrawal request of its own).
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATES = (State.QUEUED, State.PENDING)


class DasRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=3, choices=Role.choices)
    operation = models.CharField(max_length=16, choices=Operation.choices)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="das_requests")
    # Registration: the priority document sent. Retrieval: the document filed from DAS.
    document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Registration: the certificate DAS issued, filed in the dossier.
    certificate = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A withdrawal: the registration it withdraws.
    withdraws = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="withdrawals"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    document_kind = models.CharField(max_length=20, help_text="DAS `documentKindCategory`.")
    document_number = models.CharField(max_length=64, help_text="The priority application.")
    document_date = models.DateField(null=True, blank=True)
    # Chosen by the office of first filing, given by the applicant to the offices of second
    # filing: whoever knows it (and the number) may retrieve the document.
    access_code = models.CharField(max_length=32)
    das_request_id = models.CharField(max_length=100, blank=True)
    # DAS's `documentAvailabilityDate` once registered.
    available_from = models.DateField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    requested_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["das_request_id"]),
        ]

    def __str__(self) -> str:
        return f"DAS {self.operation} {self.document_number} ({self.state})"
