"""What the indexer has written: one row per indexed document, and the progress of reindexes."""

from __future__ import annotations

from django.db import models


class IndexedDocument(models.Model):
    """The state (`stamp`) of a document as last written to the active index.

    `revision` is the document's revision at that time: the indexer never replaces an entry
    with one built from an older revision.
    """

    document_id = models.UUIDField(primary_key=True)
    revision = models.PositiveIntegerField()
    stamp = models.CharField(max_length=120)
    indexed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.document_id} @ {self.stamp}"


class ReindexRun(models.Model):
    """A full rebuild into a new index generation; resumable from `after_document`."""

    generation = models.CharField(max_length=100)
    backend = models.CharField(max_length=200)
    # Events after this id happened during the rebuild and are replayed once it is active.
    start_event_id = models.BigIntegerField()
    after_document = models.CharField(max_length=36, blank=True)
    indexed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.generation} ({self.indexed} indexed)"


class IndexWakeup(models.Model):
    """A `sync_index` task queued and not started yet (at most one row, see `search.wakeups`)."""

    key = models.CharField(max_length=20, primary_key=True)
    queued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} queued at {self.queued_at}"
