"""The near-duplicate check (and a mark image's description) as a task of its own, on its own
queue (`duplicates`, consumed after every pipeline queue), so it never stands before a document
becoming searchable."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from similarity import marks, near_duplicates

log = logging.getLogger(__name__)

# The sweep queues at most this many at once; the backfill command does any number.
SWEEP_BATCH = 500


@shared_task(name="similarity.find_duplicates", ignore_result=True, acks_late=True)
def find_duplicates(version_id: int, recheck_page: bool = True) -> None:
    """Fingerprint a processed version and flag its near-duplicates. The pages' images (their
    hashes, the first-page thumbnail) are made after the text (on `render`): if they are not
    there yet, look once more a little later; the sweep catches whatever is still missing."""
    near_duplicates.fingerprint_version(version_id)
    # A mark's (or design's) representation is described for the similar-marks search from the
    # same first-page image, so it rides on the same check.
    marks.index_mark(version_id)
    if recheck_page and not near_duplicates.page_checked(version_id):
        find_duplicates.apply_async(
            (version_id,),
            {"recheck_page": False},
            countdown=settings.EDMS_DUPLICATE_PAGE_RECHECK,
        )


def queue_missing() -> int:
    """Queue the check of processed versions that have no fingerprint, or whose page images
    came after it (the sweep's requeue hook); returns how many were queued."""
    ids = list(near_duplicates.versions_to_fingerprint().values_list("id", flat=True)[:SWEEP_BATCH])
    for version_id in ids:
        find_duplicates.delay(version_id, recheck_page=False)
    return len(ids)
