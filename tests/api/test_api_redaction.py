"""`PUT /api/v1/documents/{id}/versions/{n}/redacted`: a redacted copy for the public.

The leak tests: an original PDF names the applicant "Zanzibarov"; its redacted copy does not. As
the public, the word is reachable through nothing — content, text, renditions, search hits,
snippets, exports, the UI's ZIP — while the copy's own words find the document, quoted from the
copy; internal users still find and read the original."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.events import acknowledge_events, pending_events
from dossier.models import AuditEvent, Blob, Event, EventKind, Rendition, RenditionKind
from dossier.processing_facts import record_rendition, withdraw_processing_facts
from dossier.roles import Role
from ingest import render
from ingest.renditions import save_rendition
from search import indexer
from tests.conftest import create_dossier, file_document, make_user
from tests.pages_support import paged_pdf
from tests.redaction_support import text_pdf
from tests.search_support import give_text

pytestmark = pytest.mark.django_db

KEY = "BG/P/2024/000123"
SECRET = "Zanzibarov"
ORIGINAL = text_pdf(f"Applicant {SECRET}, Sofia", "A widget with a handle")
REDACTED = text_pdf("Applicant [redacted]", "A widget with a handle")


def test_the_test_files_hold_what_they_should():
    # The original's words are in its bytes (uncompressed), so their absence elsewhere counts.
    assert SECRET.encode() in ORIGINAL and SECRET.encode() not in REDACTED


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["type"].rsplit("/", 1)[-1]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def document(registry, search_backend):
    """A public document of a published dossier, processed (its text, a PDF/A made from it)."""
    dossier = create_dossier(KEY, title="Widget")
    published = registry.post(
        f"/api/v1/dossiers/{KEY}/case-events",
        {"kind": "publication", "date": "2024-01-01"},
        format="json",
    )
    assert published.status_code == 201, published.content
    document = file_document(dossier, ORIGINAL, filename="request.pdf", visibility="public")
    give_text(document, f"Applicant {SECRET}, Sofia\nA widget with a handle", languages=["en"])
    version = document.versions.get(number=1)
    # Processing's PDF/A shows the original's words too (here: the original's bytes).
    record_rendition(version, RenditionKind.PDFA, version.blob, "application/pdf")
    return document


def url(document, number: int = 1, tail: str = "redacted") -> str:
    return f"/api/v1/documents/{document.id}/versions/{number}/{tail}"


def put_pdf(client, document, content: bytes = REDACTED, number: int = 1):
    return client.put(url(document, number), content, content_type="application/pdf")


def searched(client, q: str = SECRET) -> dict:
    response = client.get("/api/v1/search", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()


def found_by_copy(client, document, q: str) -> str:
    """The one hit of `q` is `document`; its snippets (HTML), which must not name the secret."""
    found = searched(client, q)
    assert [hit["document"] for hit in found["results"]] == [str(document.id)], found
    assert found["count"] == 1 and SECRET not in json.dumps(found)
    return " ".join(found["results"][0]["snippets"])


def export(client) -> zipfile.ZipFile:
    response = client.get(f"/api/v1/dossiers/{KEY}/export", {"renditions": "pdfa"})
    assert response.status_code == 200, response.content
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def zip_holds_secret(archive: zipfile.ZipFile) -> bool:
    return any(SECRET.encode() in archive.read(name) for name in archive.namelist())


def test_storing_a_redacted_copy_is_audited_announced_and_listed(records_clerk, document):
    response = put_pdf(records_clerk, document)
    assert response.status_code == 200, response.content
    sha256 = hashlib.sha256(REDACTED).hexdigest()
    assert response.json()["kind"] == "redacted"
    assert response.json()["sha256"] == sha256
    # Stored content-addressed like every other file; the original is untouched.
    assert b"".join(blobstore.read_chunks(sha256)) == REDACTED
    version = document.versions.get(number=1)
    assert b"".join(blobstore.read_chunks(version.blob_id)) == ORIGINAL
    audit = AuditEvent.objects.get(action="document.redacted_copy")
    assert audit.actor.username == "rico"
    assert audit.detail["sha256"] == sha256 and audit.detail["replaced"] is None
    event = Event.objects.get(kind=EventKind.REDACTED_COPY_STORED)
    assert event.document_id == document.id and event.payload["redactedSha256"] == sha256
    # The public text is what the copy itself holds.
    text = Rendition.objects.get(version=version, kind=RenditionKind.REDACTED_TEXT)
    assert b"".join(blobstore.read_chunks(text.blob_id)).decode() == (
        "Applicant [redacted]\r\nA widget with a handle"
    )
    # Anyone who may see the document can download the copy itself.
    downloaded = records_clerk.get(url(document))
    assert downloaded.status_code == 200 and body(downloaded) == REDACTED


def test_the_public_never_reaches_the_secret(public, registry, records_clerk, document):
    assert put_pdf(records_clerk, document).status_code == 200
    indexer.sync()

    content = public.get(f"/api/v1/documents/{document.id}/content")
    assert content.status_code == 200
    assert body(content) == REDACTED
    text = public.get(url(document, tail="text"))
    assert text.status_code == 200
    assert body(text) == b"Applicant [redacted]\r\nA widget with a handle"
    pdfa = public.get(url(document, tail="renditions/pdfa"))
    assert pdfa.status_code == 404 and problem_type(pdfa) == "no-redacted-copy"
    for q in (SECRET, f"{SECRET.lower()[:6]}*", f'"Applicant {SECRET}"', "Sofia"):
        found = searched(public, q)  # a word only under the box (or its prefix, or a phrase)
        assert found["count"] == 0 and found["results"] == [], q
    # The copy's words find it, quoted from the copy.
    assert "<mark>handle</mark>" in found_by_copy(public, document, "handle")
    assert "Applicant [<mark>redacted</mark>]" in found_by_copy(public, document, "redacted")
    assert SECRET not in json.dumps(searched(public, "widget"))
    public_export = export(public)
    assert public_export.namelist() and not zip_holds_secret(public_export)
    files = json.loads(public_export.read("manifest.json"))["files"]
    assert [f["sha256"] for f in files] == [hashlib.sha256(REDACTED).hexdigest()]
    ui_zip = public.post(f"/dossiers/{KEY}/zip", {"document": [str(document.id)]})
    assert ui_zip.status_code == 200, ui_zip.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(ui_zip.streaming_content)))
    assert archive.namelist() == ["2024-03-01_CLM_request.redacted.pdf"]
    assert archive.read(archive.namelist()[0]) == REDACTED

    # Internal users still read and find the original.
    assert body(registry.get(f"/api/v1/documents/{document.id}/content")) == ORIGINAL
    assert SECRET.encode() in body(registry.get(url(document, tail="text")))
    hits = searched(registry)["results"]
    assert [hit["document"] for hit in hits] == [str(document.id)]
    assert SECRET in " ".join(hits[0]["snippets"])
    assert searched(registry, "Sofia")["count"] == 1
    assert searched(registry, "redacted")["count"] == 0  # staff search the original only
    assert zip_holds_secret(export(registry))


def test_a_public_hit_lands_on_the_page_of_the_copy(public, registry, records_clerk, document):
    """The copy's text keeps its page breaks: the public's hit names the copy's page of the
    words (here 2), while the original's text (one page, as the fixture gives it) names none."""
    copy = paged_pdf("Request for grant", "Applicant [redacted]. A widget with a handle")
    assert put_pdf(records_clerk, document, copy).status_code == 200
    indexer.sync()
    text = body(public.get(url(document, tail="text"))).decode()
    assert text.split("\f") == ["Request for grant", "Applicant [redacted]. A widget with a handle"]
    for q in ("handle", "widget redacted"):
        found = searched(public, q)
        assert [hit["pages"] for hit in found["results"]] == [[2]], q
        assert SECRET not in json.dumps(found)
    assert [hit["pages"] for hit in searched(registry, "handle")["results"]] == [[None]]
    # The search page's link opens the viewer (which shows the public the copy) on that page.
    page = public.get("/search", {"q": "handle"}).content.decode()
    assert f"/documents/{document.id}?version=1&amp;page=2&amp;hl=handle" in page
    for q in (SECRET, "Sofia"):  # only under the box: nothing found, so no page told
        found = searched(public, q)
        assert (found["count"], found["results"]) == (0, []), q


def test_a_document_requiring_redaction_is_invisible_to_the_public_until_its_copy_exists(
    public, registry, records_clerk, document
):
    detail = f"/api/v1/documents/{document.id}"
    assert public.get(detail).status_code == 200  # public before anyone asks for redaction
    patched = registry.patch(detail, {"redaction_required": True}, format="json")
    assert patched.status_code == 200 and patched.json()["redaction_required"] is True
    indexer.sync()

    assert public.get(detail).status_code == 404
    assert public.get(f"{detail}/content").status_code == 404
    assert public.get(url(document, tail="text")).status_code == 404
    listed = public.get(f"/api/v1/dossiers/{KEY}/documents")
    assert listed.status_code == 200 and str(document.id) not in listed.content.decode()
    assert searched(public, "widget")["count"] == 0
    assert json.loads(export(public).read("manifest.json"))["files"] == []

    assert put_pdf(records_clerk, document).status_code == 200
    assert public.get(detail).status_code == 200
    assert body(public.get(f"{detail}/content")) == REDACTED
    indexer.sync()
    assert "<mark>handle</mark>" in found_by_copy(public, document, "handle")
    assert searched(public)["count"] == 0
    # A new version without a copy hides the document again: the copy was of version 1.
    file = io.BytesIO(text_pdf(f"Applicant {SECRET}, Plovdiv"))
    file.name = "request-v2.pdf"
    added = registry.post(f"{detail}/versions", {"file": file}, format="multipart")
    assert added.status_code == 201, added.content
    assert public.get(detail).status_code == 404
    indexer.sync()
    assert searched(public, "handle")["count"] == searched(public, "widget")["count"] == 0
    # Internal users see it throughout.
    assert registry.get(detail).status_code == 200


def test_an_older_version_without_a_copy_is_not_served_to_the_public(
    public, registry, records_clerk, document
):
    file = io.BytesIO(text_pdf("Applicant [redacted], corrected"))
    file.name = "request-v2.pdf"
    registry.post(f"/api/v1/documents/{document.id}/versions", {"file": file}, format="multipart")
    assert put_pdf(records_clerk, document, number=2).status_code == 200
    old = public.get(f"/api/v1/documents/{document.id}/versions/1/content")
    assert old.status_code == 404 and problem_type(old) == "no-redacted-copy"
    assert SECRET.encode() in body(
        registry.get(f"/api/v1/documents/{document.id}/versions/1/content")
    )


def test_a_copy_with_unapplied_redactions_or_no_pdf_is_refused(records_clerk, document):
    marked = put_pdf(records_clerk, document, text_pdf(SECRET, unapplied_redaction=True))
    assert marked.status_code == 400 and problem_type(marked) == "invalid-change"
    assert "never applied" in marked.json()["detail"]
    not_pdf = records_clerk.put(url(document), b"just text", content_type="application/pdf")
    assert not_pdf.status_code == 400 and problem_type(not_pdf) == "invalid-change"
    assert not Rendition.objects.filter(kind__startswith="redacted").exists()
    assert not AuditEvent.objects.filter(action="document.redacted_copy").exists()
    unknown = put_pdf(records_clerk, document, number=7)
    assert unknown.status_code == 404 and problem_type(unknown) == "unknown-version"


def test_who_may_store_a_copy(public, examiner, registry, document):
    assert put_pdf(public, document).status_code == 401
    assert put_pdf(examiner, document).status_code == 403
    assert put_pdf(registry, document).status_code == 200


def test_reprocessing_keeps_the_copy_and_a_new_copy_replaces_it(records_clerk, document):
    put_pdf(records_clerk, document)
    version = document.versions.get(number=1)
    withdraw_processing_facts(version.id)
    assert not Rendition.objects.filter(version=version, kind=RenditionKind.PDFA).exists()
    assert Rendition.objects.filter(version=version, kind=RenditionKind.REDACTED).exists()

    second = text_pdf("Applicant [redacted]", "A widget")
    assert put_pdf(records_clerk, document, second).status_code == 200
    copy = Rendition.objects.get(version=version, kind=RenditionKind.REDACTED)
    assert copy.blob_id == hashlib.sha256(second).hexdigest()
    audit = AuditEvent.objects.filter(action="document.redacted_copy").first()
    assert audit.detail["replaced"] == hashlib.sha256(REDACTED).hexdigest()
    assert Blob.objects.filter(sha256=hashlib.sha256(REDACTED).hexdigest()).exists()


def test_a_public_viewer_link_shows_only_the_copy(public, registry, records_clerk, document):
    assert put_pdf(records_clerk, document).status_code == 200
    # The API lets only staff make links, but a link made for the anonymous public (its issuer
    # no user) is honoured as theirs: it shows the copy, never the PDF/A of the original.
    link = actions.issue_viewer_link(document, actor=Actor(label="tests"), issuer={"user": None})
    response = public.get(f"/api/v1/documents/{document.id}/view", {"token": link.token})
    assert response.status_code == 200, response.content
    assert body(response) == REDACTED

    made = registry.post(f"/api/v1/documents/{document.id}/viewer-link", {}, format="json")
    assert made.status_code == 201, made.content
    assert SECRET.encode() in body(public.get(made.json()["url"]))  # staff: the original's PDF/A


def test_the_publication_batch_holds_the_copy_even_when_the_registry_builds_it(
    registry, records_clerk, document
):
    def batch_files() -> list[bytes]:
        response = registry.get("/api/v1/exports/publication-batch", {"date": "2024-01-01"})
        assert response.status_code == 200, response.content
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        return [archive.read(n) for n in archive.namelist() if not n.endswith("manifest.json")]

    registry.patch(f"/api/v1/documents/{document.id}", {"redaction_required": True}, format="json")
    assert batch_files() == []  # not publishable until its copy exists
    assert put_pdf(records_clerk, document).status_code == 200
    assert batch_files() == [REDACTED]


def test_the_viewer_shows_the_public_the_copy_and_staff_the_pdfa(
    public, registry, records_clerk, document
):
    assert put_pdf(records_clerk, document).status_code == 200
    content = f"/api/v1/documents/{document.id}/versions/1/content"
    pdfa = f"/api/v1/documents/{document.id}/versions/1/renditions/pdfa"
    page = public.get(f"/documents/{document.id}")
    assert page.status_code == 200
    html = page.content.decode()
    # The content URL serves the public the copy; the original's PDF/A is never pointed at.
    assert f'data-url="{content}?disposition=inline"' in html and pdfa not in html
    staff = Client()
    staff.force_login(make_user("erika", Role.EXAMINER))
    assert f'data-url="{pdfa}"' in staff.get(f"/documents/{document.id}").content.decode()


def test_public_search_forgets_the_words_at_once_not_when_the_index_catches_up(
    public, registry, records_clerk, document
):
    indexer.sync()
    assert searched(public)["count"] == 1  # a public document, its words found

    assert put_pdf(records_clerk, document).status_code == 200  # not indexed yet
    found = searched(public)
    assert found["count"] == 0 and SECRET not in json.dumps(found)
    # Until indexed, its entry still holds only the original's words: left out for the public.
    assert searched(public, "handle")["count"] == 0
    assert searched(registry)["count"] == 1
    indexer.sync()
    assert searched(public)["count"] == 0 and searched(registry)["count"] == 1
    assert "<mark>handle</mark>" in found_by_copy(public, document, "handle")


def test_a_new_copy_is_indexed_in_place_of_the_old(public, registry, records_clerk, document):
    assert put_pdf(records_clerk, document).status_code == 200
    indexer.sync()
    assert found_by_copy(public, document, "redacted")
    second = text_pdf("Applicant [withheld]", "A widget with a handle")
    assert put_pdf(records_clerk, document, second).status_code == 200
    indexer.sync()  # the copy's event alone brings the document to the indexer
    assert "<mark>withheld</mark>" in found_by_copy(public, document, "withheld")
    assert searched(public, "redacted")["count"] == 0
    assert searched(registry, "withheld")["count"] == 0


def test_an_entry_indexed_before_the_copy_never_answers_the_public(
    public, registry, records_clerk, document
):
    """The last guard (`freshness.drop_unreadable`): should the index miss the copy's event (a
    lost write), the stale entry — the original's words, open to the public — matches, but the
    public is never shown it."""
    indexer.sync()
    assert put_pdf(records_clerk, document).status_code == 200
    assert acknowledge_events(pending_events(indexer.CURSOR))  # passed over, never indexed
    for q in (SECRET, "handle"):
        found = searched(public, q)
        assert found["count"] == 0 and SECRET not in json.dumps(found), q
    assert searched(registry)["count"] == 1
    indexer.reconcile()  # the stamp differs: repaired
    assert "<mark>handle</mark>" in found_by_copy(public, document, "handle")
    assert searched(public)["count"] == 0


def add_thumbnail(document, tmp_path) -> None:
    """Processing's thumbnail of version 1: its first page, as processing renders it."""
    original, png = tmp_path / "request.pdf", tmp_path / "page-1.png"
    original.write_bytes(ORIGINAL)
    render.thumbnail(
        path=str(original), media_type="application/pdf", output_path=str(png), width=80
    )
    version = document.versions.get(number=1)
    save_rendition(version, RenditionKind.THUMBNAIL, str(png), "image/png", "page-1.png")


def listed_renditions(client, document) -> dict[str, list[str]]:
    """The rendition kinds of version 1 each listing of the API shows `client`."""
    base = f"/api/v1/documents/{document.id}"
    detail = client.get(base)
    versions = client.get(f"{base}/versions")
    wrapper = client.get(f"/api/v1/dossiers/{KEY}/documents")
    for response in (detail, versions, wrapper):
        assert response.status_code == 200, response.content
    (listed,) = wrapper.json()["results"]
    return {
        "detail": [r["kind"] for r in detail.json()["versions"][0]["renditions"]],
        "versions": [r["kind"] for r in versions.json()[0]["renditions"]],
        "wrapper": [r["kind"] for r in listed["latest"]["renditions"]],
    }


def test_the_public_is_listed_the_copy_never_renditions_that_answer_it_404(
    public, registry, records_clerk, document, tmp_path
):
    add_thumbnail(document, tmp_path)
    # Without a copy (and not requiring one) the public reads the original and its renditions.
    before = listed_renditions(public, document)
    assert all(sorted(kinds) == ["pdfa", "thumbnail"] for kinds in before.values()), before

    assert put_pdf(records_clerk, document).status_code == 200
    for kinds in listed_renditions(public, document).values():
        assert sorted(kinds) == ["redacted", "redacted_text"]
    # What is listed is what answers: the copy itself, the original's renditions 404.
    (redacted,) = [
        r
        for r in public.get(f"/api/v1/documents/{document.id}").json()["versions"][0]["renditions"]
        if r["kind"] == "redacted"
    ]
    assert body(public.get(redacted["url"])) == REDACTED
    for kind in ("pdfa", "thumbnail"):
        assert public.get(url(document, tail=f"renditions/{kind}")).status_code == 404
    # Staff keep seeing everything.
    for kinds in listed_renditions(registry, document).values():
        assert sorted(kinds) == ["pdfa", "redacted", "redacted_text", "thumbnail"]


def test_answers_and_problems_conform_to_the_openapi_schema(
    records_clerk, examiner, public, document, conforms
):
    template = "/api/v1/documents/{document_id}/versions/{number}/redacted"
    none_yet = records_clerk.get(url(document))
    assert conforms(none_yet, template)["type"] == "/api/v1/problems/no-redacted-copy"
    stored = put_pdf(records_clerk, document)
    assert stored.status_code == 200
    assert conforms(stored, template)["kind"] == "redacted"
    downloaded = records_clerk.get(url(document))
    assert downloaded.status_code == 200
    assert conforms(downloaded, template) is None  # the PDF
    for refused, slug in [
        (
            records_clerk.put(url(document), b"just text", content_type="application/pdf"),
            "invalid-change",
        ),
        (put_pdf(examiner, document), "forbidden"),
        (put_pdf(public, document), "not-authenticated"),
        (put_pdf(records_clerk, document, number=7), "unknown-version"),
    ]:
        assert conforms(refused, template)["type"] == f"/api/v1/problems/{slug}"
    # The public reads the copy's text at `…/text`.
    text = public.get(url(document, tail="text"))
    assert text.status_code == 200
    conforms(text, "/api/v1/documents/{document_id}/versions/{number}/text")
