"""An image a person uploads to be compared (the similar-marks query), made safe to look at:
decoded in the sandbox, as processing decodes every filed file, and handed back as a small PNG.

The upload is untrusted: a decompression bomb, a truncated JPEG or a file crafted against an
image decoder must not run in the web process. The sandbox child (`ingest.render:bounded_png`)
decodes it under processing's memory cap, with no network, and within a short wall-clock limit
(someone is waiting); what comes back is an RGB PNG of at most `SIDE` pixels, which presentation
and `similarity.marks` may then read. Presentation (api, frontend) may call this module; nothing
of the upload is kept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings

from ingest.sandbox import Limits, SandboxFailure, run

# The longest side of the PNG handed back: the marks' features need 128 px, the page's preview
# of the query 320.
SIDE = 512
# Refused from the header, before decoding: a photo of a mark has a few megapixels.
MAX_PIXELS = 40_000_000
# Decoding a query image takes well under a second; a person is waiting for the answer.
TIMEOUT_S = 20


class UnreadableImage(ValueError):
    """The upload is not an image that can be read (the message says why, in English);
    `too_large`: it has too many pixels (a decompression bomb among them)."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def limits() -> Limits:
    """Processing's memory cap, no network, a timeout a person can wait for."""
    return Limits(timeout_s=TIMEOUT_S, memory_mib=settings.EDMS_INGEST_MEMORY_MIB)


def bounded_png(upload) -> bytes:
    """The uploaded image (a Django `UploadedFile`) as a PNG of at most `SIDE` x `SIDE` RGB
    pixels, decoded in the sandbox; raise `UnreadableImage` if it cannot be read there."""
    run_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=run_dir, prefix="query-image-") as workdir:
        path = os.path.join(workdir, "upload")
        with open(path, "wb") as copy:  # the child reads only its own job's folder
            for chunk in upload.chunks():
                copy.write(chunk)
        output = os.path.join(workdir, "query.png")
        params = {"path": path, "side": SIDE, "max_pixels": MAX_PIXELS, "output_path": output}
        try:
            made = run("ingest.render:bounded_png", params, limits=limits(), workdir=workdir)
        except SandboxFailure as failure:
            if failure.exhausted:
                raise UnreadableImage(
                    "the image could not be read within the limits (time, memory)",
                    too_large=True,
                ) from None
            raise UnreadableImage("the file is not an image edms can read") from None
        if not made["made"]:
            if "width" in made:
                raise UnreadableImage(
                    f"the image is {made['width']} x {made['height']} pixels: "
                    f"at most {MAX_PIXELS // 1_000_000} megapixels",
                    too_large=True,
                )
            raise UnreadableImage(
                "the image has too many pixels (a decompression bomb)", too_large=True
            )
        return Path(output).read_bytes()
