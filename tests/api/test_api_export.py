"""`GET /api/v1/dossiers/{key}/export` and `edms export`: a dossier as a ZIP package of the files
the caller may see plus a manifest that lets the receiver verify every file."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent, Blob, DocumentType, Rendition, Version
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.export_support import attach_large_file, member_sha256, peak_while_receiving
from tests.factories import UserFactory

KEY = "BG/P/2023/000077"
FOLDER = "BG-P-2023-000077"
TESTS = Actor(label="tests")


@pytest.fixture
def case(db) -> dict:
    """A published patent dossier with documents of several types and visibilities, a second
    version, a PDF/A rendition, a cancelled document and a scan held for quality control; and a
    secret dossier."""
    dossier = create_dossier(
        KEY,
        published_at=dt.date(2023, 9, 1),
        filing_date=dt.date(2023, 1, 10),
        status="published",
        applicants=["ACME Ltd", "Иван Петров"],
    )
    claims = file_document(
        dossier, b"1. A widget.", type_code="CLM", visibility="public", title="Claims"
    )
    actions.add_version(
        claims, blobstore.spool([b"1. A better widget."], filename="claims-v2.txt"), actor=TESTS
    )
    description = file_document(
        dossier,
        b"%PDF-1.4 description",
        type_code="DESC",
        filename="description.pdf",
        visibility="public_after_publication",
        official_date=dt.date(2023, 1, 10),
    )
    note = file_document(
        dossier, b"examiner's thoughts", type_code="SRCH-NOTE", visibility="internal"
    )
    letter = file_document(
        dossier,
        b"confidential letter",
        type_code="REQ",
        filename="letter.txt",
        visibility="confidential",
        official_date=dt.date(2023, 2, 1),
    )
    withdrawn = file_document(
        dossier, b"filed by mistake", type_code="ABST", visibility="public", title="Wrong"
    )
    actions.cancel_document(withdrawn, reason="filed in the wrong dossier", actor=TESTS)
    held = actions.attach_document(
        dossier,
        blobstore.spool([b"scanned, not yet checked"], filename="scan.pdf"),
        doc_type=DocumentType.objects.get(code="DRW"),
        actor=TESTS,
        held_for_qc=True,
    ).document
    pdfa = _give_rendition(description, "pdfa", b"%PDF-1.7 PDF/A of the description")
    secret = create_dossier("BG/P/2023/000099", secret=True, published_at=dt.date(2023, 9, 1))
    file_document(secret, b"secret claims", type_code="CLM", visibility="public")
    return {
        "dossier": dossier,
        "claims": claims,
        "description": description,
        "note": note,
        "letter": letter,
        "withdrawn": withdrawn,
        "held": held,
        "pdfa": pdfa,
        "secret": secret,
    }


def _give_rendition(document, kind: str, content: bytes) -> bytes:
    """Attach a rendition as the pipeline stores it: content-addressed, beside the original."""
    staged = blobstore.spool([content], filename=f"rendition.{kind}.pdf")
    blobstore.promote(staged)
    blob, _ = Blob.objects.get_or_create(
        sha256=staged.sha256, defaults={"size": staged.size, "media_type": "application/pdf"}
    )
    staged.discard()
    version = document.versions.get(number=document.latest_version)
    Rendition.objects.create(version=version, kind=kind, blob=blob, media_type="application/pdf")
    return content


def export(client, key: str = KEY, **params):
    response = client.get(f"/api/v1/dossiers/{key}/export", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest_of(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("manifest.json"))


def assert_verifiable(archive: zipfile.ZipFile) -> dict:
    """Every file the manifest lists is in the archive with its size and SHA-256 and is the
    stored content byte for byte; the archive holds nothing else."""
    manifest = manifest_of(archive)
    assert archive.namelist()[0] == "manifest.json"
    assert sorted(archive.namelist()[1:]) == sorted(f["path"] for f in manifest["files"])
    for entry in manifest["files"]:
        content = archive.read(entry["path"])
        assert len(content) == entry["size"]
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        stored = b"".join(blobstore.read_chunks(entry["sha256"]))
        assert content == stored
    return manifest


def short(document) -> str:
    return document.id.hex[:8]


def test_registry_exports_every_document_latest_version_with_a_verifiable_manifest(registry, case):
    archive = export(registry)
    manifest = assert_verifiable(archive)
    assert manifest["generator"] == "edms"
    assert manifest["format"] == "edms-dossier-export"
    assert manifest["generated_at"]
    assert manifest["dossier"]["key"] == KEY
    assert manifest["dossier"]["ip_type"] == "patent"
    assert manifest["dossier"]["status"] == "published"
    assert manifest["dossier"]["published_at"] == "2023-09-01"
    assert manifest["dossier"]["applicants"] == ["ACME Ltd", "Иван Петров"]
    paths = [f["path"] for f in manifest["files"]]
    assert paths == [
        f"{FOLDER}/2023-01-10_DESC_{short(case['description'])}_v1.pdf",
        f"{FOLDER}/2023-02-01_REQ_{short(case['letter'])}_v1.txt",
        f"{FOLDER}/2024-03-01_CLM_{short(case['claims'])}_v2.txt",
        f"{FOLDER}/2024-03-01_SRCH-NOTE_{short(case['note'])}_v1.txt",
    ]
    claims = manifest["files"][2]
    assert claims["document_id"] == str(case["claims"].id)
    assert claims["type"] == "CLM"
    assert claims["type_label"] == DocumentType.objects.get(code="CLM").label()
    assert claims["direction"] == "in"
    assert claims["official_date"] == "2024-03-01"
    assert claims["title"] == "Claims"
    assert claims["visibility"] == "public"
    assert claims["version"] == 2
    assert claims["original_filename"] == "claims-v2.txt"
    assert claims["media_type"] == Version.objects.get(document=case["claims"], number=2).media_type
    assert archive.read(claims["path"]) == b"1. A better widget."
    # Neither the cancelled document nor the scan held for quality control.
    ids = {f["document_id"] for f in manifest["files"]}
    assert str(case["withdrawn"].id) not in ids and str(case["held"].id) not in ids
    assert manifest["cancelled"] == []


def test_response_is_an_attachment_named_after_the_file_number(registry, case):
    response = registry.get(f"/api/v1/dossiers/{KEY}/export")
    assert response["Content-Disposition"] == f'attachment; filename="{FOLDER}.zip"'
    b"".join(response.streaming_content)


def test_non_latin_file_numbers_name_the_package_safely(registry, db):
    dossier = create_dossier("BG/Д/2023/17", ip_type="design")
    file_document(dossier, b"views", type_code="DRW")
    response = registry.get("/api/v1/dossiers/BG/Д/2023/17/export")
    assert response.status_code == 200
    assert "filename*=utf-8''BG-%D0%94-2023-000017.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist()[1].startswith("BG-Д-2023-000017/")
    assert_verifiable(archive)


def test_all_versions(registry, case):
    manifest = assert_verifiable(export(registry, versions="all", type="CLM"))
    assert [(f["version"], f["latest_version"]) for f in manifest["files"]] == [(1, 2), (2, 2)]
    assert [f["path"].rsplit("_", 1)[1] for f in manifest["files"]] == ["v1.txt", "v2.txt"]


def test_filters_like_the_file_wrapper_listing(registry, case):
    def types(**params):
        return [f["type"] for f in manifest_of(export(registry, **params))["files"]]

    assert types(type=["CLM", "DESC"]) == ["DESC", "CLM"]
    assert types(type="clm,desc") == ["DESC", "CLM"]
    assert types(date_from="2023-01-11", date_to="2023-12-31") == ["REQ"]
    assert types(visibility="public") == ["CLM"]
    assert types(direction="internal") == ["SRCH-NOTE"]
    selection = manifest_of(export(registry, type="CLM", visibility="public"))["selection"]
    assert selection["filters"] == {"type": ["CLM"], "visibility": "public"}
    assert selection["versions"] == "latest"


def test_renditions_are_added_when_present(registry, case):
    archive = export(registry, renditions="pdfa")
    manifest = assert_verifiable(archive)
    renditions = [f for f in manifest["files"] if f["rendition"]]
    assert len(renditions) == 1
    entry = renditions[0]
    assert entry["path"] == f"{FOLDER}/2023-01-10_DESC_{short(case['description'])}_v1.pdfa.pdf"
    assert entry["rendition"] == "pdfa"
    assert entry["document_id"] == str(case["description"].id)
    assert entry["media_type"] == "application/pdf"
    assert archive.read(entry["path"]) == case["pdfa"]
    # Without asking, no rendition.
    assert not any(f["rendition"] for f in manifest_of(export(registry))["files"])


def test_queries_do_not_grow_with_the_documents_beyond_one_audit_row_each(registry, case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        manifest = manifest_of(export(registry, versions="all", renditions="pdfa"))
    writes = [q for q in queries if q["sql"].startswith("INSERT")]
    reads = [q for q in queries if q["sql"].startswith("SELECT")]
    assert len(writes) == len(manifest["files"]) == 6  # the audit rows
    assert len(reads) <= 8, [q["sql"] for q in reads]


def test_cancelled_documents_as_tombstones_on_request(registry, case):
    manifest = assert_verifiable(export(registry, include_cancelled="true"))
    assert str(case["withdrawn"].id) not in {f["document_id"] for f in manifest["files"]}
    [tombstone] = manifest["cancelled"]
    assert tombstone["document_id"] == str(case["withdrawn"].id)
    assert tombstone["state"] == "cancelled"
    assert tombstone["cancel_reason"] == "filed in the wrong dossier"
    assert tombstone["cancelled_at"]
    assert tombstone["type"] == "ABST"


def test_every_exported_file_is_audited_as_a_download(registry, case):
    # Audit rows are never deleted (the chain would break): count those written from here on.
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    manifest = manifest_of(export(registry, renditions="pdfa"))
    audits = AuditEvent.objects.filter(action="document.download", seq__gt=before)
    assert len(audits) == len(manifest["files"]) == 5
    seen = sorted((a.object_id, a.detail["version"], a.detail.get("rendition", "")) for a in audits)
    listed = sorted(
        (f["document_id"], f["version"], f["rendition"] or "") for f in manifest["files"]
    )
    assert seen == listed
    assert {a.actor_label for a in audits} == {"ipas"}
    assert {a.dossier_key for a in audits} == {case["dossier"].key}


def test_examiner_sees_internal_documents_but_not_secret_dossiers(examiner, case):
    manifest = assert_verifiable(export(examiner))
    assert {f["type"] for f in manifest["files"]} == {"CLM", "DESC", "REQ", "SRCH-NOTE"}
    response = examiner.get("/api/v1/dossiers/BG/P/2023/000099/export")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unknown-dossier")


def test_records_clerk_gets_neither_internal_documents_nor_held_scans(records_clerk, case):
    manifest = assert_verifiable(export(records_clerk, include_cancelled="true"))
    ids = {f["document_id"] for f in manifest["files"]}
    assert str(case["note"].id) not in ids
    assert str(case["held"].id) not in ids
    assert {f["type"] for f in manifest["files"]} == {"CLM", "DESC", "REQ"}


def test_public_gets_only_public_documents_of_published_dossiers(public, case):
    manifest = assert_verifiable(export(public, include_cancelled="true", versions="all"))
    assert {(f["type"], f["version"]) for f in manifest["files"]} == {
        ("CLM", 1),
        ("CLM", 2),
        ("DESC", 1),
    }
    assert manifest["cancelled"] == []
    assert public.get("/api/v1/dossiers/BG/P/2023/000099/export").status_code == 404
    unpublished = create_dossier("BG/P/2024/000001")
    file_document(unpublished, b"claims", type_code="CLM", visibility="public")
    assert public.get("/api/v1/dossiers/BG/P/2024/000001/export").status_code == 404


def test_secret_dossier_for_those_who_may_see_it(registry, case):
    manifest = assert_verifiable(export(registry, key="BG/P/2023/000099"))
    assert [f["type"] for f in manifest["files"]] == ["CLM"]
    assert manifest["dossier"]["key"] == "BG/P/2023/000099"


def test_an_empty_selection_is_a_package_with_a_manifest_alone(registry, case):
    archive = export(registry, type="DRW")
    assert archive.namelist() == ["manifest.json"]
    assert manifest_of(archive)["files"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"versions": "some"}, "versions"),
        ({"renditions": "thumbnail"}, "renditions"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"visibility": "everyone"}, "visibility"),
        ({"include_cancelled": "perhaps"}, "include_cancelled"),
    ],
)
def test_bad_parameters_are_validation_problems(registry, case, params, field):
    response = registry.get(f"/api/v1/dossiers/{KEY}/export", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert field in json.dumps(body)
    assert not AuditEvent.objects.filter(action="document.download").exists()


def test_unknown_dossier_is_404(registry, db):
    response = registry.get("/api/v1/dossiers/BG/P/2020/1/export")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/unknown-dossier")


def test_a_client_accepting_only_zip_gets_the_zip_and_json_problems(registry, case):
    accept = {"HTTP_ACCEPT": "application/zip"}
    response = registry.get(f"/api/v1/dossiers/{KEY}/export", **accept)
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    missing = registry.get("/api/v1/dossiers/BG/P/2020/1/export", **accept)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["type"].endswith("/unknown-dossier")


# --- The command ------------------------------------------------------------------------------


def test_command_writes_the_same_package_per_dossier(registry, case, tmp_path):
    user = UserFactory(username="publisher", role=Role.REGISTRY_SYSTEM)
    out = StringIO()
    call_command(
        "export",
        KEY,
        "BG/P/2023/000099",
        "--out",
        str(tmp_path),
        "--user",
        user.username,
        "--renditions",
        "pdfa",
        stdout=out,
    )
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"{FOLDER}.zip", "BG-P-2023-000099.zip"]
    from_command = zipfile.ZipFile(tmp_path / f"{FOLDER}.zip")
    from_api = export(registry, renditions="pdfa")
    assert from_command.namelist() == from_api.namelist()
    command_manifest = assert_verifiable(from_command)
    api_manifest = manifest_of(from_api)
    assert command_manifest["files"] == api_manifest["files"]
    assert command_manifest["dossier"] == api_manifest["dossier"]
    for name in from_api.namelist()[1:]:
        assert from_command.read(name) == from_api.read(name)
    assert f"{FOLDER}.zip" in out.getvalue()
    audited = AuditEvent.objects.filter(action="document.download", actor_label="publisher")
    assert audited.filter(dossier_key=case["dossier"].key).count() == 5
    assert audited.filter(dossier_key=case["secret"].key).count() == 1


def test_command_exports_what_the_public_sees_by_default(case, tmp_path):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command(
            "export", KEY, "BG/P/2023/000099", "--out", str(tmp_path), stdout=out, stderr=err
        )
    # The visible dossier is written; the secret one is not, and is named in the error.
    assert [p.name for p in tmp_path.iterdir()] == [f"{FOLDER}.zip"]
    assert "BG/P/2023/000099" in err.getvalue()
    manifest = assert_verifiable(zipfile.ZipFile(tmp_path / f"{FOLDER}.zip"))
    assert {f["type"] for f in manifest["files"]} == {"CLM", "DESC"}


# --- Memory -----------------------------------------------------------------------------------

LARGE = 200 * 1024 * 1024


def test_a_large_file_is_exported_without_holding_it_in_memory(registry, db, tmp_path):
    """200 MB go through the view and the ZIP writer while Python's allocations peak at a few
    chunks, about 3 MiB."""
    version = attach_large_file(create_dossier("BG/P/2023/000555"), LARGE)
    # Warm up first: modules imported on the first request are not the export's memory.
    small = create_dossier("BG/P/2023/000556")
    file_document(small, b"claims")
    b"".join(registry.get("/api/v1/dossiers/BG/P/2023/000556/export").streaming_content)

    received = tmp_path / "package.zip"
    peak = peak_while_receiving(
        lambda: registry.get("/api/v1/dossiers/BG/P/2023/000555/export"), received
    )
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {LARGE >> 20} MiB file"

    with zipfile.ZipFile(received) as archive:
        [entry] = manifest_of(archive)["files"]
        assert entry["size"] == LARGE
        assert entry["sha256"] == version.blob_id
        assert member_sha256(archive, entry["path"]) == version.blob_id
