"""`GET /api/v1/exports/publication-batch?date=`: every dossier published on a date, one package
per dossier (only its public documents) and a batch manifest, streamed as one ZIP."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, DocumentType
from tests.conftest import create_dossier, file_document
from tests.export_support import attach_large_file, member_sha256, peak_while_receiving

URL = "/api/v1/exports/publication-batch"
DAY = dt.date(2023, 9, 1)
TESTS = Actor(label="tests")


@pytest.fixture
def batch(db) -> dict:
    """Two dossiers published on DAY with documents of every visibility, a cancelled one and a
    held scan; one published the day after; a secret one dated DAY."""
    first = create_dossier("BG/P/2023/000077", published_at=DAY, status="published")
    second = create_dossier("BG/T/2023/000012", ip_type="trademark", published_at=DAY)
    later = create_dossier("BG/P/2023/000078", published_at=DAY + dt.timedelta(days=1))
    secret = create_dossier("BG/P/2023/000099", published_at=DAY, secret=True)
    public = [
        file_document(first, b"1. A widget.", type_code="CLM", visibility="public"),
        file_document(
            first, b"%PDF-1.4 desc", type_code="DESC", visibility="public_after_publication"
        ),
        file_document(second, b"a mark", type_code="REQ", visibility="public"),
    ]
    hidden = [
        file_document(first, b"thoughts", type_code="SRCH-NOTE", visibility="internal"),
        file_document(first, b"letter", type_code="REQ", visibility="confidential"),
        file_document(later, b"tomorrow", type_code="CLM", visibility="public"),
        file_document(secret, b"secret claims", type_code="CLM", visibility="public"),
    ]
    withdrawn = file_document(first, b"mistake", type_code="ABST", visibility="public")
    actions.cancel_document(withdrawn, reason="wrong dossier", actor=TESTS)
    held = actions.attach_document(
        first,
        blobstore.spool([b"scanned, unchecked"], filename="scan.pdf"),
        doc_type=DocumentType.objects.get(code="DRW"),
        actor=TESTS,
        held_for_qc=True,
        visibility="public",
    ).document
    return {"public": public, "hidden": [*hidden, withdrawn, held]}


def fetch(client, **params) -> zipfile.ZipFile:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    assert response.streaming  # never rendered whole
    assert response["Content-Type"] == "application/zip"
    assert 'filename="publication-batch-' in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def exported_ids(archive: zipfile.ZipFile) -> set[str]:
    batch = json.loads(archive.read("manifest.json"))
    ids = set()
    for entry in batch["dossiers"]:
        package = json.loads(archive.read(entry["manifest"]))
        ids |= {f["document_id"] for f in package["files"]}
    return ids


def test_one_package_per_dossier_published_that_day_with_its_public_documents(registry, batch):
    archive = fetch(registry, date=DAY.isoformat())
    names = archive.namelist()
    assert names[0] == "manifest.json"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "edms-publication-batch"
    assert manifest["published_on"] == "2023-09-01"
    assert [d["key"] for d in manifest["dossiers"]] == ["BG/P/2023/000077", "BG/T/2023/000012"]
    assert [d["manifest"] for d in manifest["dossiers"]] == [
        "BG-P-2023-000077/manifest.json",
        "BG-T-2023-000012/manifest.json",
    ]
    listed = []
    for entry in manifest["dossiers"]:
        package = json.loads(archive.read(entry["manifest"]))
        assert package["dossier"]["key"] == entry["key"]
        for item in package["files"]:
            assert item["path"].startswith(entry["folder"] + "/")
            assert item["visibility"] in ("public", "public_after_publication")
            content = archive.read(item["path"])
            assert hashlib.sha256(content).hexdigest() == item["sha256"]
            assert content == b"".join(blobstore.read_chunks(item["sha256"]))
            listed.append(item["path"])
    # Nothing but the manifests and the files they list.
    assert sorted(names) == sorted(
        ["manifest.json", *(d["manifest"] for d in manifest["dossiers"]), *listed]
    )
    assert exported_ids(archive) == {str(d.id) for d in batch["public"]}


def test_every_file_is_audited_as_a_download(registry, batch):
    fetch(registry, date=DAY.isoformat())
    downloads = AuditEvent.objects.filter(action="document.download")
    assert sorted(a.object_id for a in downloads) == sorted(str(d.id) for d in batch["public"])
    assert {a.actor_label for a in downloads} == {"ipas"}


def test_the_public_gets_the_same_public_documents(public, batch, settings):
    settings.EDMS_PUBLIC_ACCESS = True
    assert exported_ids(fetch(public, date=DAY.isoformat())) == {str(d.id) for d in batch["public"]}


def test_a_day_without_publications_is_a_manifest_alone(registry, batch):
    archive = fetch(registry, date="2020-01-01")
    assert archive.namelist() == ["manifest.json"]
    assert json.loads(archive.read("manifest.json"))["dossiers"] == []


@pytest.mark.parametrize("params", [{}, {"date": "01.09.2023"}, {"date": "2023-13-01"}])
def test_a_missing_or_bad_date_is_a_validation_problem(registry, db, params):
    response = registry.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "date"


LARGE = 64 * 1024 * 1024


def test_a_large_file_goes_out_without_being_held_in_memory(registry, db, tmp_path):
    dossier = create_dossier("BG/P/2023/000555", published_at=DAY)
    version = attach_large_file(dossier, LARGE, visibility="public")
    # Warm up: modules imported on the first request are not the export's memory.
    b"".join(registry.get(URL, {"date": "2020-01-01"}).streaming_content)

    received = tmp_path / "batch.zip"
    peak = peak_while_receiving(lambda: registry.get(URL, {"date": DAY.isoformat()}), received)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {LARGE >> 20} MiB file"
    with zipfile.ZipFile(received) as archive:
        [entry] = json.loads(archive.read("BG-P-2023-000555/manifest.json"))["files"]
        assert entry["sha256"] == version.blob_id
        assert member_sha256(archive, entry["path"]) == version.blob_id


def test_the_batch_and_its_problems_conform_to_the_openapi_schema(registry, batch, conforms):
    template = "/api/v1/exports/publication-batch"
    response = registry.get(URL, {"date": DAY.isoformat()})
    assert response.status_code == 200
    assert conforms(response, template) is None  # the ZIP
    invalid = registry.get(URL, {"date": "2023-13-01"})
    assert conforms(invalid, template)["field"] == "date"
