"""A note or highlight a reader puts on a page of a version.

Stored apart from the file: the original, its SHA-256 and its renditions never change. A note is
private to its author, or shared with the staff who may read the document (`annotations.access`).
Changed only through `annotations.actions`, which audits every change.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from dossier.models import Document, Version


class Kind(models.TextChoices):
    NOTE = "note", "Note"
    HIGHLIGHT = "highlight", "Highlight"


class Sharing(models.TextChoices):
    PRIVATE = "private", "Private"
    SHARED = "shared", "Shared with the examining division"


class Annotation(models.Model):
    """A note at a point, or a highlighted passage, on one page of one version.

    `rect` is the area on the page as fractions of its width and height from the top left
    corner, `[x0, y0, x1, y1]` (a note at a point has x0 == x1 and y0 == y1): independent of
    zoom and rotation, so it lands on the same spot at any scale. A highlight also keeps the
    selection's boxes, one a line or so (`rects`, each `[x0, y0, x1, y1]` the same way; `rect`
    is then their bounding box), and the text it covers (`quote`); its `text` is an optional
    comment. A note has no `rects` and no `quote`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    page = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NOTE)
    rect = models.JSONField()
    rects = models.JSONField(default=list, blank=True)
    quote = models.TextField(blank=True)
    text = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#ffd400")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    visibility = models.CharField(max_length=10, choices=Sharing.choices, default=Sharing.PRIVATE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "created_at", "id"]
        indexes = [models.Index(fields=["document", "version"], name="annotation_version")]

    def __str__(self) -> str:
        return f"{self.kind} on p.{self.page} of {self.document_id} v{self.version.number}"
