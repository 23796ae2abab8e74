"""The scheduled fixity scrub (issue 18, point 4): each pass checks a share of the blobs, the
least recently verified first, so that the whole store is covered within the cycle; a blob
damaged on disk is found by a pass, announced on the event feed, shown on the operations page
and the admin, and refused on download (503, never a 304 on its old ETag) until repaired."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import Client
from django.utils import timezone

from dossier import blobstore
from dossier.fixity_pass import due_share
from dossier.models import Blob, Event, EventKind, FixityPass
from dossier.roles import Role
from ingest import page_images
from tests.conftest import file_document
from tests.factories import UserFactory
from tests.system.test_security_content import tamper

CORPUS_PDF = Path("/work/shared/corpus/pdf/47df49b2_gradientfill.pdf")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def scheduled_pass(*args: str) -> str:
    out = io.StringIO()
    call_command("fixity", "--cycle-days", "30", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def a_day_passes() -> None:
    """Move every recorded time one day into the past: for the scrub, a day has gone by."""
    day = dt.timedelta(days=1)
    Blob.objects.update(created_at=F("created_at") - day)
    Blob.objects.filter(verified_at__isnull=False).update(verified_at=F("verified_at") - day)
    FixityPass.objects.update(started_at=F("started_at") - day)


def checked_in_last_pass() -> int:
    return FixityPass.objects.order_by("-started_at").first().checked


@pytest.fixture
def store(dossier) -> list[str]:
    """A store of 45 blobs of 100 bytes, none verified yet (as after an upgrade)."""
    contents = [os.urandom(100) for _ in range(45)]
    for content in contents:
        file_document(dossier, content)
    Blob.objects.update(verified_at=None)
    return [sha256_of(content) for content in contents]


def test_daily_passes_cover_the_whole_store_within_the_cycle(store):
    seen: set[str] = set()
    for _day in range(30):
        chosen = {blob.sha256 for blob in due_share(30)}
        assert len(chosen) == 2  # ceil(45 / 30): a share, not everything
        seen |= chosen
        scheduled_pass()
        assert checked_in_last_pass() == 2
        a_day_passes()
    assert seen == set(store)
    # Every blob was verified within the cycle; the recorded passes say so too.
    oldest = timezone.now() - dt.timedelta(days=30)
    assert not Blob.objects.filter(verified_at__isnull=True).exists()
    assert not Blob.objects.filter(verified_at__lt=oldest).exists()
    assert FixityPass.objects.filter(cycle_days=30).count() == 30


def test_overdue_blobs_are_all_due_at_once(store):
    # A month without any pass: everything is overdue, and the next pass takes it all.
    for _day in range(31):
        a_day_passes()
    assert len(due_share(30)) == len(store)


def test_a_pass_stops_at_its_byte_bound_and_leaves_the_rest_due(store):
    for _day in range(31):
        a_day_passes()
    output = scheduled_pass("--max-bytes", "500")
    record = FixityPass.objects.get()
    assert record.checked == 5  # 500 bytes: five blobs of 100
    assert record.left_due == len(store) - 5
    assert f"{len(store) - 5} left for the next pass" in output
    # What it left is first next time.
    assert len(due_share(30)) == len(store) - 5


def test_a_scheduled_pass_is_skipped_when_one_ran_recently(store, settings):
    settings.EDMS_FIXITY_INTERVAL = 86400
    call_command("fixity", "--scheduled", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("fixity", "--scheduled", stdout=io.StringIO(), stderr=io.StringIO())
    assert FixityPass.objects.count() == 1
    a_day_passes()
    call_command("fixity", "--scheduled", stdout=io.StringIO(), stderr=io.StringIO())
    assert FixityPass.objects.count() == 2


def test_damage_found_by_a_scheduled_pass_is_announced_shown_and_refused(dossier, registry):
    content = CORPUS_PDF.read_bytes()
    document = file_document(dossier, content, filename="drawing.pdf")
    for _ in range(3):
        file_document(dossier)  # the rest of the store, verified recently
    sha256 = sha256_of(content)
    old_etag = f'"{sha256}"'
    url = f"/api/v1/documents/{document.id}/content"
    assert registry.get(url).status_code == 200
    # Checked long ago: it is the first the scrub takes.
    Blob.objects.update(verified_at=timezone.now())
    Blob.objects.filter(pk=sha256).update(verified_at=timezone.now() - dt.timedelta(days=20))
    tamper(sha256)

    # The scheduled pass reports, and exits 0 (`edms run` would otherwise restart it at once).
    call_command("fixity", "--scheduled", stdout=io.StringIO(), stderr=io.StringIO())
    record = FixityPass.objects.get()
    assert record.checked == 1  # the share of a day: the least recently verified
    assert [entry["sha256"] for entry in record.bad] == [sha256]
    assert record.bad[0]["problem"] == "mismatch"

    # The feed tells the registry, for the document version whose content it is.
    feed = registry.get("/api/v1/events").json()["events"]
    (corrupted,) = [e for e in feed if e["kind"] == EventKind.BLOB_CORRUPTED]
    assert corrupted["document"] == str(document.id)
    assert corrupted["version"] == 1
    assert corrupted["payload"]["sha256"] == sha256

    # The operations page shows the pass and links the damaged document.
    staff = Client()
    staff.force_login(UserFactory(role=Role.RECORDS_CLERK))
    page = staff.get("/operations").content.decode()
    assert 'id="fixity-last"' in page and "1 bad" in page
    assert f'data-sha256="{sha256}"' in page
    assert f'href="/documents/{document.id}?version=1"' in page
    staff.post("/i18n/setlang/", {"language": "fr"})
    assert "Intégrité des fichiers" in staff.get("/operations").content.decode()
    staff.post("/i18n/setlang/", {"language": "en"})

    # The admin lists the pass with the bad blob and a link to its document.
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    detail = admin.get(f"/admin/dossier/fixitypass/{record.pk}/change/").content.decode()
    assert sha256 in detail and f"/admin/dossier/document/{document.id}/change/" in detail

    # Downloads: a problem naming the damage, never a 304 on the old ETag.
    for headers in ({}, {"HTTP_IF_NONE_MATCH": old_etag}):
        response = registry.get(url, **headers)
        assert response.status_code == 503
        assert response["Content-Type"] == "application/problem+json"
        assert "integrity check" in response.json()["detail"]
        assert "ETag" not in response
    # The viewer's page image likewise: a plain 503, not the cached image nor a 304.
    width = page_images.allowed_width(None)
    image_url = f"/documents/{document.id}/versions/1/pages/1.webp?width={width}"
    image_etag = f'"{sha256[:32]}-1-{width}"'
    for headers in ({}, {"HTTP_IF_NONE_MATCH": image_etag}):
        response = staff.get(image_url, **headers)
        assert response.status_code == 503
        assert response["Content-Type"].startswith("text/plain")
        assert "integrity check" in response.content.decode()
        assert "ETag" not in response

    # The viewer says so plainly instead of loading the refused content.
    viewer = staff.get(f"/documents/{document.id}").content.decode()
    assert 'id="corrupt-content"' in viewer and "pdf-viewer" not in viewer

    # Repair: the same bytes uploaded again replace the damaged copy, and it is served again.
    file_document(dossier, content, filename="drawing-again.pdf")
    assert not Blob.objects.get(pk=sha256).is_corrupt
    kinds = [e["kind"] for e in registry.get("/api/v1/events").json()["events"]]
    assert EventKind.BLOB_REPAIRED in kinds
    repaired = Event.objects.get(kind=EventKind.BLOB_REPAIRED, document_id=document.id)
    assert repaired.payload == {"sha256": sha256, "by": "upload"}
    response = registry.get(url)
    assert response.status_code == 200 and response["ETag"] == old_etag
    assert b"".join(response.streaming_content) == content
    assert registry.get(url, HTTP_IF_NONE_MATCH=old_etag).status_code == 304
    page = staff.get("/operations").content.decode()
    assert f'data-sha256="{sha256}"' not in page
    assert 'id="corrupt-content"' not in staff.get(f"/documents/{document.id}").content.decode()
    assert blobstore.rehash(sha256) == (sha256, len(content))


def test_damage_is_announced_once_per_document_version_sharing_the_content(dossier):
    content = os.urandom(300)
    first = file_document(dossier, content, filename="a.txt")
    second = file_document(dossier, content, filename="b.txt")
    tamper(sha256_of(content))
    Blob.objects.filter(pk=sha256_of(content)).update(verified_at=None)  # due first
    # As the nightly timer runs it: the damage also fails the command (systemctl shows it).
    with pytest.raises(CommandError):
        scheduled_pass()
    announced = Event.objects.filter(kind=EventKind.BLOB_CORRUPTED).order_by("document_id")
    assert sorted((e.document_id, e.version) for e in announced) == sorted(
        [(first.id, 1), (second.id, 1)]
    )
    # Found once, announced once: the next pass checks it again, but says nothing new.
    with pytest.raises(CommandError):
        scheduled_pass()  # corrupt content is checked on every pass
    assert Event.objects.filter(kind=EventKind.BLOB_CORRUPTED).count() == 2
