"""What `edms run`'s long-running processes hold from their start: the web server and the Celery
workers load no library that only the sandbox children, scan splitting or quality control use,
the workers no URLconf, and the supervisor neither Django, Celery nor redis-py (each costs memory
in every process for as long as it runs).

Each check starts a fresh Python, imports as that process does, and reads its `sys.modules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Imported where they are used: splitting, QC, thumbnails and cover sheets, the sandbox children.
PDF_AND_IMAGE_LIBRARIES = ["pikepdf", "pypdfium2", "PIL", "zxingcpp"]

WEB = """
import edms.wsgi  # as gunicorn loads `edms.wsgi:application`: Django set up
from importlib import import_module
from django.conf import settings
import_module(settings.ROOT_URLCONF)  # every view, as after the first request
"""

# What `celery -A edms worker` does before it takes a task: it finds the app (in `edms.celery`),
# and its loader sets Django up and imports the apps' tasks modules.
WORKER = """
from celery.bin.celery import find_app
find_app("edms").loader.import_default_modules()
"""

# What the sandbox zygote imports before it forks (ingest.sandbox.zygote_server).
ZYGOTE = """
import importlib
from ingest.sandbox.zygote_server import PRELOADED
for name in PRELOADED:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
"""

SUPERVISOR = "import edms.supervisor  # as `python -m edms.supervisor` does\n"

REPORT = """
import json, sys
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(code: str) -> set[str]:
    """The modules, and their top-level packages, a fresh Python holds after running `code`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "edms.settings"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return set(modules) | {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("code", [WEB, WORKER], ids=["web server", "worker"])
def test_the_web_server_and_workers_load_no_pdf_or_image_library(code):
    modules = loaded_modules(code)
    assert "scanning" in modules and "ingest" in modules  # the apps were really imported
    assert [name for name in PDF_AND_IMAGE_LIBRARIES if name in modules] == []
    # The vector index (usearch, and pikepdf before it) loads at the first similar-documents
    # query or embedding task, not at start.
    assert "usearch" not in modules


def test_a_worker_does_not_import_django_rest_framework_until_it_needs_it():
    # ~13 MiB with the PostgreSQL fields and psycopg it imports: the API's sweep hooks and the
    # webhooks' bodies import it when they run (api.apps, webhooks.attempts).
    modules = loaded_modules(WORKER)
    assert "webhooks.tasks" in modules and "api" in modules
    heavy = ("rest_framework.fields", "rest_framework.serializers")
    assert [name for name in heavy if name in modules] == []


def test_a_worker_does_not_import_the_urlconf():
    # Celery's Django fixup would run the system checks, which import every view.
    modules = loaded_modules(WORKER)
    assert "scanning.tasks" in modules
    assert "edms.urls" not in modules and "drf_spectacular.views" not in modules


def test_the_sandbox_zygote_preloads_neither_ocrmypdf_nor_djangos_translation():
    # Every child forked from the zygote holds a copy of its heap (counted again in each child's
    # RSS): OCRmyPDF is loaded at the first OCR job (`ingest.ocr.preload`), and the reasons'
    # translation (Django's, with asyncio) only where a sentence is shown.
    modules = loaded_modules(ZYGOTE)
    assert "iscc_tika" in modules and "ingest.reasons" in modules
    assert [n for n in ("ocrmypdf", "django.utils.translation", "asyncio") if n in modules] == []


def test_the_supervisor_holds_neither_django_nor_celery_nor_a_redis_client():
    modules = loaded_modules(SUPERVISOR)
    assert "edms.localbroker" in modules
    assert [name for name in ("django", "celery", "kombu", "redis") if name in modules] == []
