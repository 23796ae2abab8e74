"""What ingestion knows about each version while processing it: its run state and its working
copy of what it extracts. What others read of the outcome is recorded on the version as domain
facts when a run finishes (`dossier.processing_facts`); these rows stay `ingest`'s own."""

from __future__ import annotations

from django.db import models

from dossier.lanes import Lane
from dossier.models import Blob, TextQuality, Version
from ingest import reasons


class State(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StepState(models.TextChoices):
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Stage(models.TextChoices):
    """Which queue's task takes the processing next: OCR and office renders wait on their own
    queues, so a backlog there never delays extraction."""

    EXTRACT = "extract", "Identify and extract"
    OCR = "ocr", "OCR"
    RENDER = "render", "Render"


class Processing(models.Model):
    """One per version. Changed only by `ingest.pipeline`; the original is never touched.

    `steps` is the list the API shows: `[{"name", "state", "ms", "detail"}]`, in order. The
    fields from `media_type` to `quality_reason` are the run's working copy, filled step by step;
    `ingest.pipeline` records them on the version when the run finishes.
    """

    version = models.OneToOneField(Version, on_delete=models.CASCADE, related_name="processing")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.EXTRACT)
    reason = models.TextField(blank=True, help_text="Why it failed, for a person to act on.")
    # The reason's code in `ingest.reasons` (the UI shows its sentence translated); the raw
    # technical detail is in the failing step's `detail`.
    reason_code = models.CharField(
        max_length=40, blank=True, help_text="The failure reason's stable code (see README)."
    )
    steps = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Whose queues its tasks go to (see `dossier.lanes`): kept here so that a stage handed over,
    # or a task queued again by the sweeper, stays in the lane the version came in.
    lane = models.CharField(max_length=12, choices=Lane.choices, default=Lane.INTERACTIVE)
    queued_at = models.DateTimeField(auto_now_add=True)
    # The lease, for the sweeper to tell work that waits from work whose task is gone (see
    # `ingest.lease`): the id of the task last sent for the stage, and while it runs, who runs
    # it and when it last said it was alive.
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    runner_host = models.CharField(max_length=200, blank=True)
    runner_pid = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    media_type = models.CharField(max_length=200, blank=True, help_text="Detected from content.")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes.")
    metadata = models.JSONField(
        default=dict, blank=True, help_text="title, author, created, pdfa, encrypted"
    )
    text = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text_chars = models.PositiveIntegerField(null=True, blank=True)
    # The text-quality gate's verdict on the text (`ingest.quality`), "" until judged.
    quality = models.CharField(max_length=10, choices=TextQuality.choices, blank=True)
    quality_reason = models.TextField(blank=True)
    # Renditions (a thumbnail, an office document's PDF) are made after the version is done and
    # searchable, on the `render` queue: "" none due, else pending → running → done or failed
    # (a rendition that could not be made is a failed step; the text stays searchable).
    renditions_state = models.CharField(
        max_length=10, choices=State.choices, blank=True, default=""
    )
    # When the renditions were queued (pending) or claimed (running): what the sweeper checks.
    renditions_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "processing"
        indexes = [models.Index(fields=["state", "started_at"])]

    def __str__(self) -> str:
        return f"{self.version} {self.state}"

    @property
    def translated_reason(self) -> str:
        """The failure's reason in the active language (what the UI shows); the stored English
        one for a failure recorded before reasons had codes."""
        return reasons.translated(self.reason_code, self.reason)
