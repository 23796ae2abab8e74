"""What near-duplicate detection keeps: each processed version's fingerprint (a MinHash of its
text, the perceptual hashes of its pages), the LSH keys that find candidates, and the flags it
raised for records staff to review. Nothing here changes a dossier: a flag is a hint."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dossier.models import Document, Version


class Fingerprint(models.Model):
    """What a processed version looks like to the near-duplicate check (`near_duplicates`)."""

    version = models.OneToOneField(
        Version, on_delete=models.CASCADE, related_name="duplicate_fingerprint"
    )
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    # 128 32-bit integers; null when the version has no text, or too little to compare.
    text_signature = models.JSONField(null=True, blank=True)
    # 64 hex digits (256 bits) of the first page's image; "" without one (or a blank page).
    page_hash = models.CharField(max_length=64, blank=True)
    # The hashes of its pages that are not blank, in page order (from processing's
    # `PageHashes`); a version processed before pages were hashed has only its first page's,
    # from its thumbnail.
    page_hashes = models.JSONField(default=list, blank=True)
    # Whether the pages' images were there to hash (renditions come after "searchable"):
    # a fingerprint made before them is completed by `find_duplicates` or the sweep.
    page_checked = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"fingerprint of {self.version}"


class FingerprintKey(models.Model):
    """An LSH key of a fingerprint (`t<band>:<hash>` for text, `p<n>:<bits>` for the page):
    fingerprints sharing a key are compared."""

    fingerprint = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=24)

    class Meta:
        indexes = [models.Index(fields=["key"], name="fingerprint_key")]


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    REVIEWED = "reviewed", _("Reviewed: a duplicate")
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")


class DuplicateFlag(models.Model):
    """`document` is probably a re-filing of `original` (filed earlier): nearly the same text
    (`text_similarity`, estimated Jaccard of word 5-grams) or the same pages (`pages_same` of
    its `pages_compared` pages are the same as pages of the original, the least alike of them
    `page_distance` bits of 256 apart). Records staff mark it reviewed or not a duplicate."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    original = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    original_version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    text_similarity = models.FloatField(null=True, blank=True)
    page_distance = models.PositiveSmallIntegerField(null=True, blank=True)
    # Null for a flag raised before pages were compared (then only the first pages were).
    pages_same = models.PositiveIntegerField(null=True, blank=True)
    pages_compared = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "original"], name="duplicate_flag_pair")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="duplicate_flag_status")]

    def __str__(self) -> str:
        return f"{self.document_id} ~ {self.original_id} ({self.status})"


class MarkImage(models.Model):
    """The similar-marks features of a mark's representation (a `MARK` document, or a design's
    first reproduction, `DREP`): `marks_features.VIEWS` float32 unit vectors, from the first-page
    image processing renders of the version (`similarity.marks`)."""

    version = models.OneToOneField(Version, on_delete=models.CASCADE, related_name="mark_image")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    vectors = models.BinaryField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"mark image of {self.version}"
