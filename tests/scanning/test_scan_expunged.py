"""Scan parts whose document was expunged since the split (a court order reaching a scan still
held for quality control, or one filed long ago): the batch pages, the QC queue, the part page
and the API keep working and show the part as expunged, never its pages (not even a cached
thumbnail), and the only quality-control operation left is to reject it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Blob, Event, EventKind
from dossier.roles import Role
from scanning import thumbnails
from scanning.models import PartState, ScanBatch, ScanPart
from tests import scan_support as scan
from tests.conftest import create_dossier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D1 = "BG/P/2024/000123"
D2 = "BG/P/2024/000124"
ORDER = {"reason": "papers of another applicant", "reference": "Court order 12/2026"}


@pytest.fixture(scope="module")
def batch_bytes() -> bytes:
    return scan.batch_pdf(
        [
            scan.cover(D1, "CLM", dt.date(2024, 5, 6)),
            scan.text_page("PAGE A"),
            scan.text_page("PAGE B"),
            scan.cover(D2, "DESC"),
            scan.text_page("PAGE D"),
        ]
    )


@pytest.fixture
def batch(batch_bytes) -> ScanBatch:
    create_dossier(D1), create_dossier(D2)
    return scan.split_now(batch_bytes, station="S1")


@pytest.fixture
def clerk() -> Client:
    client = Client()
    client.force_login(UserFactory(username="rita", role=Role.RECORDS_CLERK))
    return client


def parts(batch) -> list[ScanPart]:
    return list(ScanPart.objects.filter(batch=batch).order_by("index"))


def expunge(part: ScanPart, django_capture_on_commit_callbacks) -> None:
    """Expunge the part's document, its subscribers run as after a real commit."""
    with django_capture_on_commit_callbacks(execute=True):
        actions.expunge_document(part.document, actor=Actor(label="dpo"), **ORDER)


@pytest.fixture
def expunged(batch, clerk, django_capture_on_commit_callbacks) -> ScanPart:
    """The first part, still waiting for QC, after its thumbnails were shown once (so they
    sit in the cache) and its document was expunged."""
    first, _ = parts(batch)
    assert first.state == PartState.QC and first.document_id
    assert clerk.get(f"/scanning/parts/{first.id}/pages/1").status_code == 200
    assert (thumbnails.cache_dir() / first.content_id[:2] / first.content_id).is_dir()
    expunge(first, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    return first


def test_the_pages_and_their_cached_thumbnails_are_gone(batch, expunged):
    assert not blobstore.exists(expunged.content_id)
    assert Blob.objects.get(pk=expunged.content_id).expunged_at is not None
    assert not (thumbnails.cache_dir() / expunged.content_id[:2] / expunged.content_id).exists()


def test_the_scanners_file_goes_too_and_the_other_parts_stay(batch, expunged):
    """The batch's source holds the expunged pages as well; nothing reads it once split. The
    other document of the batch keeps its own content."""
    batch.refresh_from_db()
    assert Blob.objects.get(pk=batch.source_id).expunged_at is not None
    assert not blobstore.exists(batch.source_id)
    other = parts(batch)[1]
    assert blobstore.exists(other.content_id)
    assert Blob.objects.get(pk=other.content_id).expunged_at is None


def test_the_ui_shows_the_part_as_expunged_and_never_its_pages(clerk, batch, expunged):
    other = parts(batch)[1]
    page = clerk.get(f"/scanning/batches/{batch.id}")
    assert page.status_code == 200
    html = page.content.decode()
    row = html.split(f'data-part="{expunged.id}"')[1].split("</tr>")[0]
    assert "Pages expunged" in row
    assert "Pages expunged" not in html.split(f'data-part="{other.id}"')[1].split("</tr>")[0]

    queue = clerk.get("/scanning/qc")
    assert queue.status_code == 200
    item = queue.content.decode().split(f'data-part="{expunged.id}"')[1].split("</li>")[0]
    assert "Pages expunged" in item and "<img" not in item

    detail = clerk.get(f"/scanning/parts/{expunged.id}")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'id="part-expunged"' in html
    assert f"/scanning/parts/{expunged.id}/pages/" not in html
    assert f"/api/v1/scan-parts/{expunged.id}/content" not in html
    # Only rejecting is offered.
    assert f"/scanning/parts/{expunged.id}/reject" in html
    for operation in ("approve", "assign", "rotate", "merge", "split", "put-back"):
        assert f"/scanning/parts/{expunged.id}/{operation}" not in html

    thumbnail = clerk.get(f"/scanning/parts/{expunged.id}/pages/1?c={expunged.content_id}")
    assert thumbnail.status_code == 410
    assert not (thumbnails.cache_dir() / expunged.content_id[:2] / expunged.content_id).exists()


def test_the_api_shows_the_part_as_expunged_and_serves_nothing(records_clerk, batch, expunged):
    body = records_clerk.get(f"/api/v1/scan-batches/{batch.id}")
    assert body.status_code == 200
    assert [d["expunged"] for d in body.json()["documents"]] == [True, False]
    part = records_clerk.get(f"/api/v1/scan-parts/{expunged.id}")
    assert part.status_code == 200 and part.json()["expunged"] is True

    url = f"/api/v1/scan-parts/{expunged.id}/content"
    for headers in ({}, {"HTTP_IF_NONE_MATCH": f'"{expunged.content_id}"'}):
        gone = records_clerk.get(url, **headers)
        assert gone.status_code == 410
        assert gone["Content-Type"] == "application/problem+json"
        assert gone.json()["type"] == "/api/v1/problems/content-expunged"
    # Gone on purpose, not damaged: nothing is marked corrupt or announced as such.
    assert Blob.objects.get(pk=expunged.content_id).corrupt_since is None
    assert not Event.objects.filter(kind=EventKind.BLOB_CORRUPTED).exists()


@pytest.mark.parametrize(
    "operation, body",
    [
        ("approve", {}),
        ("rotate", {"pages": [1], "degrees": 90}),
        ("delete-pages", {"pages": [2]}),
        ("split", {"page": 2}),
        ("assign", {"dossier": D2, "type": "DESC"}),
    ],
)
def test_qc_operations_on_expunged_pages_are_refused(records_clerk, expunged, operation, body):
    response = records_clerk.post(
        f"/api/v1/scan-parts/{expunged.id}/{operation}", body, format="json"
    )
    assert response.status_code == 410, response.content
    assert response.json()["type"] == "/api/v1/problems/content-expunged"
    after = ScanPart.objects.get(pk=expunged.pk)
    assert (after.state, after.content_id, after.page_count) == (
        PartState.QC,
        expunged.content_id,
        expunged.page_count,
    )


def test_merging_expunged_pages_into_another_part_is_refused(records_clerk, batch, expunged):
    other = parts(batch)[1]
    response = records_clerk.post(
        f"/api/v1/scan-parts/{other.id}/merge", {"other": str(expunged.id)}, format="json"
    )
    assert response.status_code == 410
    assert ScanPart.objects.get(pk=other.pk).content_id == other.content_id


def test_the_part_can_be_rejected_and_leaves_the_queue(clerk, batch, expunged):
    refused = clerk.post(
        f"/scanning/parts/{expunged.id}/rotate", {"pages": "1", "degrees": "90"}, follow=True
    )
    assert any("were expunged" in str(m) for m in refused.context["messages"])
    response = clerk.post(
        f"/scanning/parts/{expunged.id}/reject", {"reason": "expunged by court order"}
    )
    assert response.status_code == 302
    assert ScanPart.objects.get(pk=expunged.pk).state == PartState.REJECTED
    assert f'data-part="{expunged.id}"' not in clerk.get("/scanning/qc").content.decode()


def test_an_approved_part_expunged_later(
    clerk, records_clerk, batch, django_capture_on_commit_callbacks
):
    _, second = parts(batch)
    assert records_clerk.post(f"/api/v1/scan-parts/{second.id}/approve").status_code == 200
    second.refresh_from_db()
    expunge(second, django_capture_on_commit_callbacks)

    assert clerk.get(f"/scanning/batches/{batch.id}").status_code == 200
    detail = clerk.get(f"/scanning/parts/{second.id}").content.decode()
    assert 'id="part-expunged"' in detail
    assert clerk.get(f"/scanning/parts/{second.id}/pages/1").status_code == 410
    body = records_clerk.get(f"/api/v1/scan-batches/{batch.id}").json()
    assert [d["expunged"] for d in body["documents"]] == [False, True]
    assert records_clerk.get(f"/api/v1/scan-parts/{second.id}/content").status_code == 410
