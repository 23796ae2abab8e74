"""GET /api/v1/dossiers/{key}/audit: a dossier's audit trail with its chain links, for
administrators and records clerks only; the admin shows the rows read-only."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from dossier import audit_chain
from dossier.models import AuditEvent

KEY = "BG/P/2024/000123"
STORED_KEY = "BG/P/2024/123"  # the canonical form the trail is keyed by
URL = f"/api/v1/dossiers/{KEY}/audit"


def filed(registry) -> str:
    registry.put(f"/api/v1/dossiers/{KEY}", {"ip_type": "patent", "title": "W"}, format="json")
    created = registry.post(
        f"/api/v1/dossiers/{KEY}/documents",
        {"file": SimpleUploadedFile("c.txt", b"claims"), "type": "CLM"},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    return created.json()["id"]


def test_records_clerk_reads_the_trail_oldest_first_with_its_hashes(registry, records_clerk):
    document_id = filed(registry)
    response = records_clerk.get(URL)
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["action"] for row in rows][:1] == ["dossier.create"]
    assert {row["dossier_key"] for row in rows} == {STORED_KEY}
    seqs = [row["seq"] for row in rows]
    assert seqs == sorted(seqs)
    for row in rows:  # each row's hash recomputes from what the API shows
        assert audit_chain.hash_of_export(row) == row["row_hash"]
    only_document = records_clerk.get(URL, {"document": document_id}).json()["results"]
    assert only_document and {row["object_id"] for row in only_document} == {document_id}


def test_examiners_the_public_and_a_bad_document_id_are_refused(registry, examiner, public):
    filed(registry)
    assert examiner.get(URL).status_code == 403
    assert public.get(URL).status_code == 401
    assert registry.get(URL).status_code == 403  # the registry's key is not records staff


def test_admin_reads_the_trail_and_a_bad_filter_is_a_problem(registry, admin_client):
    filed(registry)
    assert admin_client.get(URL).status_code == 200
    bad = admin_client.get(URL, {"document": "not-a-uuid"})
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
    assert admin_client.get("/api/v1/dossiers/BG/P/2024/999999/audit").status_code == 404


def test_the_admin_lists_audit_rows_read_only(registry, client, django_user_model):
    filed(registry)
    django_user_model.objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(django_user_model.objects.get(username="root"))
    listing = client.get("/admin/dossier/auditevent/")
    assert listing.status_code == 200
    assert b"dossier.create" in listing.content
    row = AuditEvent.objects.order_by("seq").first()
    page = client.get(f"/admin/dossier/auditevent/{row.pk}/change/")
    assert page.status_code == 200
    assert row.row_hash.encode() in page.content
    assert b'name="_save"' not in page.content  # nothing to save: read-only
    assert client.get("/admin/dossier/auditcheckpoint/").status_code == 200
