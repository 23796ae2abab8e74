"""The `decode` step: text, HTML and XML made readable before extraction (`ingest.markup`, in
the sandbox child): decoded by their real charset, patent XML read into its fields."""

from __future__ import annotations

from ingest.markup import wanted
from ingest.steps import Run, StepResult, sandboxed


def decode(run: Run) -> StepResult | None:
    """Point the extractor at a UTF-8 copy (or a patent's text in reading order) when the
    original would read wrong; unrecorded (None) when the file is fine as it is."""
    media_type = run.identity.get("media_type", "")
    if not wanted(media_type):
        return None
    found = sandboxed(
        run,
        "ingest.markup:prepare",
        {"path": run.readable, "workdir": run.workdir, "media_type": media_type},
        network=False,
    )
    if not found:
        return None
    run.readable = found["path"]
    # What the extractor says of the copy (text/plain for a patent's text) is not the type.
    run.identity |= {"media_type": found["media_type"], "settled_media_type": True}
    run.identity["metadata"] = found["metadata"]
    processing = run.processing
    processing.media_type = found["media_type"]
    processing.save(update_fields=["media_type"])
    return StepResult(found["detail"])
