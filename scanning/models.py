"""Scan batches and the parts they are split into (digitization).

A batch is one file a scanner wrote; splitting cuts it at cover sheets into parts. A part is
either routed (it has a document, held for quality control until approved) or unassigned (its
pages wait for a clerk to name the dossier and type). The pages judged blank are kept too, as a
part in state `blank` that is never filed. Changed only by `scanning`.

Their tables keep the names they had when scanning was part of `ingest` (`ingest_scanbatch`,
`ingest_scanpart`): the app moved, the rows did not (migrations `scanning.0001`, `ingest.0009`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from dossier.models import Blob, Document


class BatchState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SPLITTING = "splitting", "Splitting"
    QC = "qc", "Waiting for quality control"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PartState(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    QC = "qc", "Waiting for quality control"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    MERGED = "merged", "Merged into another part"
    # The batch's pages judged blank: kept with the batch, never filed; QC may put them back.
    BLANK = "blank", "Set aside as blank"


# A part in one of these states still needs a clerk.
OPEN_PART_STATES = (PartState.UNASSIGNED, PartState.QC)


class ScanBatch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of pages read.")
    station = models.CharField(max_length=100, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    operator_label = models.CharField(max_length=200, blank=True)
    origin = models.CharField(max_length=20, default="api", help_text="api or folder")
    source = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    source_filename = models.CharField(max_length=255)
    drop_blank_pages = models.BooleanField(default=True)
    pages_in = models.PositiveIntegerField(null=True, blank=True)
    pages_out = models.PositiveIntegerField(null=True, blank=True)
    cover_sheets = models.PositiveIntegerField(null=True, blank=True)
    blank_pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its split task was last sent (the sweeper sends it again if it is lost).
    queued_at = models.DateTimeField(default=timezone.now)
    task_id = models.CharField(max_length=64, blank=True)  # of that task (see ingest.lease)
    started_at = models.DateTimeField(null=True, blank=True)
    split_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ingest_scanbatch"  # made when scanning was part of ingest; kept as it was
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.id} {self.state}"


class ScanPart(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(ScanBatch, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField(help_text="Order in the batch (re-splits append).")
    state = models.CharField(max_length=12, choices=PartState.choices)
    reason = models.TextField(blank=True, help_text="Why unassigned, rejected or merged.")
    # What the cover sheet said (kept even when it names no known dossier).
    dossier_key = models.CharField(max_length=128, blank=True)
    type_code = models.CharField(max_length=20, blank=True)
    official_date = models.DateField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    source_pages = models.JSONField(default=list, help_text="1-based pages of the batch file.")
    content = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    page_count = models.PositiveIntegerField()
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ingest_scanpart"  # as ScanBatch's
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="scan_part_index_unique")
        ]

    def __str__(self) -> str:
        return f"part {self.index} of {self.batch_id} ({self.state})"
