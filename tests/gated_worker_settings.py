"""Settings of a Celery worker whose extraction waits for a gate file (`EDMS_TEST_GATE`), so a
test can kill it mid-run: edms's settings with the gated extractor of `tests.ingest_hostile`."""

import os

from edms.settings import *  # noqa: F403

EDMS_EXTRACTOR = {
    "BACKEND": "tests.ingest_hostile.GatedExtractor",
    "OPTIONS": {"gate": os.environ["EDMS_TEST_GATE"]},
}
