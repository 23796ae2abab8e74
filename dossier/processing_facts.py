"""What processing leaves for others, recorded on the version as domain facts: the detected
media type, page count, languages, document metadata, the extracted text (a blob), the
text-quality gate's verdict on it (with the reason for a warning, or why there is no text), and
the renditions made from it.

`ingest` runs the processing and keeps its run state (steps, attempts, stage, leases, task ids)
to itself; these actions are how it publishes what it found. `search` reads only these facts;
the API and the UI show them, and may read ingest's run state only to show how processing is
going (see `.importlinter`).

The facts are those of the last run that finished: recorded in the transaction that marks the
run finished (so "done" is never seen without them), and withdrawn when a run starts afresh (so
a version being processed again has no text until its new one is recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from dossier.actions.expunge import discard_for_expunged
from dossier.models import UPLOADED_RENDITIONS, Blob, PageHashes, Rendition, Version


@dataclass(frozen=True)
class ProcessingFacts:
    """What a finished run found in a version (text only when it finished done)."""

    media_type: str = ""
    page_count: int | None = None
    languages: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    text_sha256: str = ""  # the text's blob
    quality: str = ""  # a `TextQuality`, "" when not judged
    quality_reason: str = ""


NO_FACTS = ProcessingFacts()


@transaction.atomic
def record_processing_facts(version_id: int, facts: ProcessingFacts) -> None:
    """Record what the version's finished processing found. Call it inside the transaction that
    marks the processing finished. A version expunged meanwhile keeps no facts, and the text
    made from it is discarded."""
    if _expunged(version_id):
        if facts.text_sha256:
            discard_for_expunged([facts.text_sha256])
        return
    Version.objects.filter(pk=version_id).update(
        detected_media_type=facts.media_type,
        page_count=facts.page_count,
        languages=list(facts.languages),
        metadata=dict(facts.metadata),
        text_id=facts.text_sha256 or None,
        quality=facts.quality,
        quality_reason=facts.quality_reason,
    )


@transaction.atomic
def withdraw_processing_facts(version_id: int) -> None:
    """Forget what an earlier run found, renditions included: the version is processed afresh
    and gets them again. A redacted copy is people's work, not processing's: it stays."""
    record_processing_facts(version_id, NO_FACTS)
    Rendition.objects.filter(version_id=version_id).exclude(kind__in=UPLOADED_RENDITIONS).delete()
    PageHashes.objects.filter(version_id=version_id).delete()


@transaction.atomic
def record_rendition(version: Version, kind: str, blob: Blob, media_type: str) -> Rendition | None:
    """List a file made from the version (its content already stored as `blob`), replacing one
    of the same kind; None, and the file discarded, if the version was expunged meanwhile."""
    if _expunged(version.pk):
        discard_for_expunged([blob.sha256])
        return None
    rendition, _ = Rendition.objects.update_or_create(
        version=version, kind=kind, defaults={"blob": blob, "media_type": media_type}
    )
    return rendition


@transaction.atomic
def record_page_hashes(version: Version, hashes: list[str | None], pages: int) -> bool:
    """Record the perceptual hashes of the version's pages (None for a blank one; the first
    `len(hashes)` of its `pages`), replacing earlier ones; False if the version was expunged
    meanwhile (nothing derived from removed content is kept)."""
    if _expunged(version.pk):
        return False
    PageHashes.objects.update_or_create(
        version=version, defaults={"hashes": list(hashes), "pages": pages}
    )
    return True


def _expunged(version_id: int) -> bool:
    """Whether the version is expunged, waiting for an expunge in progress (it locks the row) to
    commit, so that what is recorded after it is seen to be too late."""
    state = (
        Version.objects.select_for_update()
        .filter(pk=version_id)
        .values_list("expunged_at", flat=True)
    )
    return any(at is not None for at in state)
