"""A process killed mid-upload never leaves a visible half-written version.

Each test lets a real process die by SIGKILL (no clean-up code runs) at a chosen point of an
upload, then checks from this process what a reader would see:

- the document's versions are exactly what they were;
- no version row points at a blob that is missing from storage;
- the content key of the interrupted content holds either nothing or the complete content;
- `edms fixity` finds every stored blob intact.

The kill points are injected inside the *child* process only (a generator that kills itself, or
a patched function that kills instead of returning): fault injection, not mocking.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from dossier import blobstore
from dossier.models import Blob, Document, Version
from tests.conftest import client_for_key
from tests.factories import DocumentFactory, DossierFactory
from tests.gunicorn_server import (
    gunicorn_server,
    pattern_chunks,
    pattern_digest,
    process_env,
    send_body,
    start_upload,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHUNK_MB = 12  # over boto3's multipart threshold, so S3 uploads are multipart too
CHILD_TIMEOUT = 60

# Runs in the child: `python -c CHILD <action> <kill point> <document id or dossier key> <seed>`.
CHILD = r"""
import os, signal, sys
import django

django.setup()

from dossier import actions, blobstore
from dossier.actions import filing
from dossier.audit import Actor
from dossier.models import Document, DocumentType, Dossier
from tests.gunicorn_server import pattern_chunks

action, point, target, seed, megabytes = sys.argv[1:6]
megabytes = int(megabytes)


def die(*args, **kwargs):
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def chunks():
    for index, chunk in enumerate(pattern_chunks(seed, megabytes)):
        if point == "spool" and index == megabytes // 2:
            die()
        yield chunk


def die_after_first_part(upload_file):
    # S3 promotion uploads the spool in parts: die once the first part has been sent.
    sent = 0

    def killer(count):
        nonlocal sent
        sent += count
        if sent >= 8 * 1024 * 1024:
            die()

    def dying_upload_file(*args, **kwargs):
        return upload_file(*args, **{**kwargs, "Callback": killer})

    return dying_upload_file


if point == "promote":
    blobstore.os.replace = die  # filesystem: the staging file is complete, not yet renamed
    storage = blobstore.blob_storage()
    if hasattr(storage, "bucket"):  # S3: the upload is under way, not completed
        storage.bucket.upload_file = die_after_first_part(storage.bucket.upload_file)
elif point == "commit":
    filing.record_audit = die  # inside the action's transaction, version row written

staged = blobstore.spool(chunks(), filename="claims.bin")
actor = Actor(label="crash-test")
if action == "add_version":
    actions.add_version(Document.objects.get(pk=target), staged, actor=actor)
else:
    dossier = Dossier.objects.get(key=target)
    doc_type = DocumentType.objects.get(code="CLM")
    actions.attach_document(dossier, staged, doc_type=doc_type, actor=actor)
print("survived")
"""


def run_child(action: str, point: str, target: str, seed: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD, action, point, target, seed, str(CHUNK_MB)],
        env=process_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )


def local_blob_root() -> Path | None:
    location = getattr(blobstore.blob_storage(), "location", None)
    return None if hasattr(blobstore.blob_storage(), "bucket") else Path(location)


def scratch_files() -> set[Path]:
    """Spool and staging files: where a killed upload may leave bytes behind, invisibly."""
    places = [Path(settings.FILE_UPLOAD_TEMP_DIR)]
    root = local_blob_root()
    if root is not None:
        places.append(root / blobstore.STAGING_DIR)
    return {entry for place in places if place.is_dir() for entry in place.iterdir()}


@pytest.fixture
def forget_content():
    """Remove the given content from blob storage after the test (its rows are gone by then)."""
    digests: list[str] = []
    yield digests.append
    for sha256 in digests:
        blobstore.blob_storage().delete(blobstore.storage_key(sha256))


@pytest.fixture
def leftovers():
    """The scratch files a test's killed process leaves; removed afterwards."""
    before = scratch_files()
    created: set[Path] = set()

    def new_files() -> set[Path]:
        created.update(scratch_files() - before)
        return created

    yield new_files
    for path in new_files():
        path.unlink(missing_ok=True)


def assert_content_key_complete_or_empty(sha256: str, size: int) -> bool:
    """True when the complete content is stored under its key, False when nothing is."""
    if not blobstore.exists(sha256):
        return False
    assert blobstore.rehash(sha256) == (sha256, size), "half-written content under a content key"
    return True


def assert_every_version_has_its_blob() -> None:
    for version in Version.objects.select_related("blob"):
        assert blobstore.exists(version.blob_id), f"{version} points at a missing blob"
        assert blobstore.rehash(version.blob_id) == (version.blob_id, version.blob.size)


def assert_fixity_ok() -> None:
    out = StringIO()
    call_command("fixity", stdout=out)  # raises CommandError on any bad blob
    assert f"{Blob.objects.count()} ok, 0 bad" in out.getvalue()


@pytest.mark.parametrize("point", ["spool", "promote", "commit"])
def test_killed_while_adding_a_version(point, leftovers, forget_content):
    document = DocumentFactory(dossier=DossierFactory(key="BG/P/2024/77"), content=b"v1")
    seed = f"add-version-{point}-{os.getpid()}-{time.time_ns()}"
    intended = pattern_digest(seed, CHUNK_MB)
    forget_content(intended)

    child = run_child("add_version", point, str(document.id), seed)

    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)
    document.refresh_from_db()
    assert document.latest_version == 1
    assert list(document.versions.values_list("number", flat=True)) == [1]
    assert not Version.objects.filter(blob_id=intended).exists()
    stored = assert_content_key_complete_or_empty(intended, CHUNK_MB * 1024 * 1024)
    # Where the process died decides whether the (unreferenced, complete) content got stored.
    assert stored is (point == "commit")
    if point == "promote" and local_blob_root() is not None:
        staging = [p for p in leftovers() if p.parent.name == blobstore.STAGING_DIR]
        assert staging, "the kill was meant to land between staging and the rename"
    assert_every_version_has_its_blob()
    assert_fixity_ok()


def test_killed_inside_the_registration_transaction(leftovers, forget_content):
    dossier = DossierFactory(key="BG/P/2024/78")
    seed = f"attach-{os.getpid()}-{time.time_ns()}"
    forget_content(pattern_digest(seed, CHUNK_MB))

    child = run_child("attach_document", "commit", dossier.key, seed)

    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)
    assert not Document.objects.filter(dossier=dossier).exists()
    assert not Version.objects.exists()
    assert_content_key_complete_or_empty(pattern_digest(seed, CHUNK_MB), CHUNK_MB * 1024 * 1024)
    assert_fixity_ok()


def test_a_version_added_after_a_crash_gets_the_next_number(leftovers, forget_content):
    """The killed attempt did not reserve or burn a version number."""
    document = DocumentFactory(dossier=DossierFactory(key="BG/P/2024/79"), content=b"v1")
    seed = f"retry-{os.getpid()}-{time.time_ns()}"
    forget_content(pattern_digest(seed, CHUNK_MB))
    forget_content(pattern_digest(seed, 1))
    assert run_child("add_version", "commit", str(document.id), seed).returncode < 0

    survivor = subprocess.run(
        [sys.executable, "-c", CHILD, "add_version", "none", str(document.id), seed, "1"],
        env=process_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert survivor.returncode == 0, survivor.stderr
    assert "survived" in survivor.stdout
    document.refresh_from_db()
    assert list(document.versions.values_list("number", flat=True)) == [1, 2]
    assert_every_version_has_its_blob()
    assert_fixity_ok()


# --- A real server killed while a client streams an upload to it ------------------------------

SERVER_UPLOAD_MB = 64


def wait_for_partial_spool(before: set[Path], at_least: int, server) -> Path:
    """The server's spool file of this upload, once it holds `at_least` bytes."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in scratch_files() - before:
            try:
                if path.stat().st_size >= at_least:
                    return path
            except FileNotFoundError:
                continue
        time.sleep(0.05)
    pytest.fail(f"the server never spooled {at_least} bytes:\n{server.log_tail()}")


def test_server_killed_mid_upload_leaves_nothing_visible(registry_key, tmp_path, leftovers):
    document = DocumentFactory(dossier=DossierFactory(key="BG/P/2024/80"), content=b"v1")
    seed = f"server-{os.getpid()}-{time.time_ns()}"
    intended = pattern_digest(seed, SERVER_UPLOAD_MB)
    versions_before = set(document.versions.values_list("id", flat=True))
    scratch_before = scratch_files()

    with gunicorn_server(tmp_path) as server:
        conn = server.connect()
        start_upload(
            conn,
            f"/api/v1/documents/{document.id}/versions",
            size=SERVER_UPLOAD_MB * 1024 * 1024,
            headers={
                "Authorization": f"Bearer {registry_key}",
                "Content-Type": "application/octet-stream",
                "X-Filename": "big.bin",
            },
        )
        half = SERVER_UPLOAD_MB // 2
        send_body(conn, pattern_chunks(seed, half))  # the first half of the intended content
        # Kill only once the server has really taken in a good part of the body.
        wait_for_partial_spool(scratch_before, (half - 4) * 1024 * 1024, server)
        server.kill()
        conn.close()
        assert server.process.returncode is not None

    document.refresh_from_db()
    assert document.latest_version == 1
    assert set(document.versions.values_list("id", flat=True)) == versions_before
    assert not blobstore.exists(intended)
    assert not Blob.objects.filter(pk=intended).exists()
    assert_every_version_has_its_blob()
    assert_fixity_ok()


# --- A request killed after claiming its Idempotency-Key ------------------------------------

# Runs in the child: `python -c IDEMPOTENT_CHILD <kill point> <api key> <dossier key>`. It
# registers a document with an Idempotency-Key through the API (Django's test client, in
# process) and dies at the kill point: inside the registration's transaction ("work"), or with
# the work done, when the response is being remembered ("response").
IDEMPOTENT_CHILD = r"""
import os, signal, sys
import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from api import idempotency
from dossier.actions import filing

point, api_key, dossier = sys.argv[1:4]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


if point == "work":
    filing.record_audit = die  # inside the filing action's transaction
else:
    idempotency.remember = die
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
file = SimpleUploadedFile("claims.txt", b"claims of a killed request", "text/plain")
client.post(
    f"/api/v1/dossiers/{dossier}/documents",
    {"type": "CLM", "file": file},
    format="multipart",
    HTTP_IDEMPOTENCY_KEY="filing-1",
)
print("survived")
"""


@pytest.mark.parametrize("point", ["work", "response"])
def test_a_retry_after_a_request_was_killed_mid_way(point, registry_key):
    dossier = DossierFactory(key="BG/P/2024/81")
    child = subprocess.run(
        [sys.executable, "-c", IDEMPOTENT_CHILD, point, registry_key, dossier.key],
        env=process_env(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)

    retry = client_for_key(registry_key).post(
        f"/api/v1/dossiers/{dossier.key}/documents",
        {"type": "CLM", "file": SimpleUploadedFile("claims.txt", b"claims of a killed request")},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="filing-1",
    )
    documents = Document.objects.filter(dossier=dossier)
    if connection.vendor == "postgresql":
        # The claim died with the request's transaction, the work too: the retry does it, once.
        assert retry.status_code == 201, retry.content
        assert "Idempotent-Replayed" not in retry
        assert [str(d.id) for d in documents] == [retry.json()["id"]]
    else:
        # SQLite: the claim committed first and stays until it is abandoned (ABANDONED_AFTER);
        # the work committed or not depending on where the request died.
        assert retry.status_code == 409, retry.content
        assert documents.count() == (1 if point == "response" else 0)
