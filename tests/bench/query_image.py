"""What decoding a similar-marks query in the sandbox adds (`ingest.uploaded_images`): the time
to turn an uploaded image into the small trusted PNG in a sandbox child, beside the time to
decode it in this process as the web process did before (Pillow, `draft`, a 512 px thumbnail).
It prints figures; it asserts nothing.

Queries: a generated logo (PNG, 256 px, as `tests.bench.marks` makes them), the same logo at
2000 px, and a 3000 x 2000 photo-like JPEG. The first sandbox call starts the zygote (timed
apart); then `--runs` calls of each, p50 and p95.

    python -m tests.bench.query_image [--runs 20]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import tempfile
import time

import django


def _uploads() -> dict[str, bytes]:
    from PIL import Image

    from tests.bench.marks import logo

    made = {}
    small = logo(random.Random(1))
    for name, image, fmt in (
        ("logo 256 px PNG", small, "PNG"),
        ("logo 2000 px PNG", small.resize((2000, 2000)), "PNG"),
        ("photo 3000x2000 JPEG", Image.effect_noise((3000, 2000), 60).convert("RGB"), "JPEG"),
    ):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        made[name] = buffer.getvalue()
    return made


def _in_process(data: bytes) -> None:
    """What the web process did before: decode the upload itself."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (512, 512))
        small = image.convert("RGB")
    small.thumbnail((512, 512))
    small.save(io.BytesIO(), "PNG")


def _percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edms.settings")
    os.environ.setdefault("EDMS_DATA_DIR", tempfile.mkdtemp(prefix="edms-bench-query-"))
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ingest import uploaded_images

    uploads = _uploads()
    started = time.perf_counter()
    uploaded_images.bounded_png(SimpleUploadedFile("first.png", uploads["logo 256 px PNG"]))
    print(
        f"first call (starts the sandbox's zygote): {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    for name, data in uploads.items():
        sandboxed, local = [], []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            uploaded_images.bounded_png(SimpleUploadedFile("query", data))
            sandboxed.append(time.perf_counter() - started)
            started = time.perf_counter()
            _in_process(data)
            local.append(time.perf_counter() - started)
        added = statistics.median(sandboxed) - statistics.median(local)
        print(
            f"{name:22} {len(data) / 1024:7.0f} KiB  sandbox {_percentiles(sandboxed)}  "
            f"in process {_percentiles(local)}  added (p50) {added * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
