"""What the similarity index holds, kept in the database so the vector index on disk can always be
rebuilt from it (`similarity.vectorindex`): each document's latest text cut into chunks, with
each chunk's embedding. The near-duplicate and similar-mark models live in
`similarity.duplicate_models` and are imported here so that Django finds them."""

from __future__ import annotations

from django.db import models

from dossier.models import Document
from similarity.duplicate_models import (  # noqa: F401
    DuplicateFlag,
    DuplicateStatus,
    Fingerprint,
    FingerprintKey,
    MarkImage,
)


class EmbeddedText(models.Model):
    """Which text of a document its chunks were made from, and by which model: the embedding
    task compares these with the document's current latest text and skips work already done."""

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    text_sha256 = models.CharField(max_length=64, help_text="Digest of the text embedded.")
    model = models.CharField(max_length=64)
    chunk_count = models.PositiveIntegerField(default=0)
    embedded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.document_id}: {self.chunk_count} chunks ({self.model})"


class Chunk(models.Model):
    """A passage of a document's latest text and its embedding. Its id is the vector index's key."""

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    start = models.PositiveIntegerField(help_text="First character of the passage in the text.")
    end = models.PositiveIntegerField()
    passage = models.TextField(help_text="The passage itself: shown as the reason of a match.")
    vector = models.BinaryField(help_text="float32 embedding, L2-normalised.")

    class Meta:
        ordering = ["document", "ordinal"]
        indexes = [models.Index(fields=["document", "ordinal"])]

    def __str__(self) -> str:
        return f"{self.document_id} #{self.ordinal}"


class EmbeddingQueued(models.Model):
    """When a document's embedding task was last sent (by the subscriber or the sweep): the sweep
    sends it again only when that is `EDMS_REQUEUE_AFTER` ago and the document still waits, so a
    task still in the queue behind a backlog is not sent twice."""

    document_id = models.UUIDField(primary_key=True)
    queued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.document_id} queued {self.queued_at:%Y-%m-%d %H:%M}"
