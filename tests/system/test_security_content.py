"""Security regressions of issue 10 for content: stored XSS (finding 1) and corrupted content
served as good (finding 3).

1. Content and renditions are never active content on the application's origin: only passive
   types are inline, every answer carries `Content-Security-Policy: sandbox; default-src 'none'`
   and `nosniff`, text is `text/plain; charset=utf-8`, and the viewer loads no HTML or SVG. The
   browser test at the end replays the proof of concept (a filed document that reads the CSRF
   token and retitles another document through the API) in Chromium.
3. Content is verified against its SHA-256 while it streams; a corrupt blob is answered 503
   `content-unavailable` (no ETag, no 304, no ranges); uploading the same bytes again replaces a
   corrupt or missing copy; the event feed announces `blob.corrupted` and `blob.repaired`.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dossier import actions, blobstore
from dossier import events as outbox
from dossier.audit import Actor
from dossier.models import Blob, Document, Event, EventKind, Rendition
from dossier.roles import Role
from ingest.models import Processing
from search import indexer
from tests.browser_support import PASSWORD, sign_in
from tests.conftest import file_document
from tests.factories import UserFactory
from tests.gunicorn_server import gunicorn_server, pattern_chunks, pattern_digest
from tests.search_support import give_text
from tests.system.test_streaming_upload import MEMORY_BOUND, RssSampler

SANDBOX = "sandbox; default-src 'none'"


def content_url(document: Document, **params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"/api/v1/documents/{document.id}/content" + (f"?{query}" if query else "")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def assert_hardened(response) -> None:
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


def body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


# --- Finding 1: nothing active from the application's origin ---------------------------------

HTML = b"<!doctype html><html><body><script>document.title = 'owned'</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
    b"<script>document.title = 'owned'</script></svg>"
)
XHTML = (
    b'<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
    b"<script>document.title = 'owned'</script></body></html>"
)
XML = b'<?xml version="1.0"?><doc xmlns:h="http://www.w3.org/1999/xhtml"><h:script/></doc>'
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.mark.parametrize(
    ("filename", "content", "media_type"),
    [
        ("page.html", HTML, "text/html"),
        ("drawing.svg", SVG, "image/svg+xml"),
        ("page.xhtml", XHTML, "application/xhtml+xml"),
        ("data.xml", XML, "application/xml"),
        ("blob.bin", b"\x00\x01 not a known type", "application/octet-stream"),
    ],
)
def test_active_and_unknown_types_are_always_attachments(
    registry, dossier, filename, content, media_type
):
    document = file_document(dossier, content, filename=filename)
    response = registry.get(content_url(document, disposition="inline"))
    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert_hardened(response)
    assert body(response) == content


@pytest.mark.parametrize(
    ("filename", "content"),
    [("scan.pdf", b"%PDF-1.7\n% a passive document\n%%EOF\n"), ("photo.png", PNG)],
)
def test_passive_types_may_be_inline_but_still_sandboxed(registry, dossier, filename, content):
    document = file_document(dossier, content, filename=filename)
    response = registry.get(content_url(document, disposition="inline"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert_hardened(response)


def test_html_filed_as_text_is_served_as_text_with_a_charset(registry, dossier):
    document = file_document(dossier, HTML, filename="note.txt")
    response = registry.get(content_url(document, disposition="inline"))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline;")
    assert_hardened(response)


def test_not_modified_and_ranges_carry_the_headers_too(registry, dossier):
    document = file_document(dossier, HTML, filename="page.html")
    etag = f'"{sha256_of(HTML)}"'
    not_modified = registry.get(content_url(document), HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert_hardened(not_modified)
    ranged = registry.get(content_url(document, disposition="inline"), HTTP_RANGE="bytes=0-9")
    assert ranged.status_code == 206
    assert ranged["Content-Disposition"].startswith("attachment;")
    assert_hardened(ranged)


def test_renditions_are_served_like_content(registry, dossier):
    document = file_document(dossier, HTML, filename="page.html")
    staged = blobstore.spool([SVG], filename="page.svg")
    blobstore.promote(staged)
    staged.discard()
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size, media_type="image/svg+xml")
    Rendition.objects.create(
        version=document.versions.get(), kind="thumbnail", blob=blob, media_type="image/svg+xml"
    )
    url = f"/api/v1/documents/{document.id}/versions/1/renditions/thumbnail?disposition=inline"
    response = registry.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert_hardened(response)


def test_extracted_text_is_plain_text_and_sandboxed(registry, dossier):
    document = file_document(dossier, HTML, filename="page.html")
    give_text(document, "<script>document.title = 'owned'</script>")
    response = registry.get(f"/api/v1/documents/{document.id}/versions/1/text")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert_hardened(response)


@pytest.mark.parametrize(("filename", "content"), [("page.html", HTML), ("drawing.svg", SVG)])
def test_the_viewer_never_loads_html_or_svg_inline(dossier, filename, content):
    document = file_document(dossier, content, filename=filename)
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))
    page = client.get(f"/documents/{document.id}").content.decode()
    assert 'data-kind="text"' in page
    assert "disposition=inline" not in page
    assert 'data-url=""' in page


# --- Finding 3: integrity end to end ---------------------------------------------------------


def tamper(sha256: str) -> None:
    """Flip the first byte of the stored copy behind edms's back, as a failing disk would."""
    path = blobstore.local_path(sha256)
    if path is not None:
        os.chmod(path, 0o644)
        with open(path, "r+b") as handle:
            first = handle.read(1)
            handle.seek(0)
            handle.write(bytes([first[0] ^ 0xFF]))
        os.chmod(path, 0o444)
        return
    storage = blobstore.blob_storage()
    stored = storage.bucket.Object(storage._normalize_name(blobstore.storage_key(sha256)))
    data = bytearray(stored.get()["Body"].read())
    data[0] ^= 0xFF
    # Multipart above 8 MB, as edms uploads: a real S3 server refuses a single PUT that large.
    stored.upload_fileobj(io.BytesIO(bytes(data)))


def remove(sha256: str) -> None:
    blobstore.blob_storage().delete(blobstore.storage_key(sha256))


def run_fixity() -> None:
    with pytest.raises(CommandError):
        call_command("fixity", stdout=io.StringIO())


def events(kind: EventKind) -> list[Event]:
    return list(Event.objects.filter(kind=kind).order_by("id"))


# Over two chunks, so part of it streams before the digest can be checked.
LARGE = os.urandom(2 * blobstore.CHUNK_SIZE + 12345)


def test_altered_content_ends_the_download_with_an_error_and_is_marked(registry, dossier):
    document = file_document(dossier, LARGE, filename="large.pdf")
    tamper(sha256_of(LARGE))
    response = registry.get(content_url(document))
    assert response.status_code == 200
    received = bytearray()
    with pytest.raises(blobstore.ContentCorrupt):
        for chunk in response.streaming_content:
            received += chunk
    # The client never has all the bytes: the last chunk is withheld, the response cut short.
    assert 0 < len(received) < len(LARGE)
    blob = Blob.objects.get(pk=sha256_of(LARGE))
    assert blob.is_corrupt
    (event,) = events(EventKind.BLOB_CORRUPTED)
    assert (event.document_id, event.version, event.dossier_key) == (document.id, 1, dossier.key)
    assert event.payload["sha256"] == blob.sha256
    assert event.payload["problem"] == "mismatch"
    # From now on it is refused, not served again.
    assert registry.get(content_url(document)).status_code == 503


def test_a_blob_fixity_marked_corrupt_is_503_and_never_its_old_etag(registry, dossier):
    content = os.urandom(4096)
    document = file_document(dossier, content, filename="claims.pdf")
    etag = f'"{sha256_of(content)}"'
    tamper(sha256_of(content))
    run_fixity()
    for headers in ({}, {"HTTP_IF_NONE_MATCH": etag}, {"HTTP_RANGE": "bytes=0-9"}):
        response = registry.get(content_url(document), **headers)
        assert response.status_code == 503, headers
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "/api/v1/problems/content-unavailable"
        assert "ETag" not in response
        assert_hardened(response)
    assert [e.payload["problem"] for e in events(EventKind.BLOB_CORRUPTED)] == ["mismatch"]


def test_uploading_the_same_bytes_again_repairs_a_corrupt_blob(registry, dossier):
    content = os.urandom(4096)
    first = file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    run_fixity()
    second = file_document(dossier, content, filename="claims-again.pdf")
    # The new upload was not deduplicated onto the corrupt copy: it replaced it.
    for document in (first, second):
        response = registry.get(content_url(document))
        assert response.status_code == 200
        assert body(response) == content
    assert blobstore.rehash(sha256_of(content)) == (sha256_of(content), len(content))
    assert not Blob.objects.get(pk=sha256_of(content)).is_corrupt
    (repaired,) = events(EventKind.BLOB_REPAIRED)
    assert (repaired.document_id, repaired.payload["by"]) == (first.id, "upload")
    call_command("fixity", stdout=io.StringIO())  # all good again: no CommandError
    path = blobstore.local_path(sha256_of(content))
    if path is not None:
        assert os.stat(path).st_mode & 0o777 == 0o444  # still read-only, like all content


def test_an_unnoticed_corrupt_copy_is_replaced_by_a_new_upload(registry, dossier):
    content = os.urandom(4096)
    file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    second = file_document(dossier, content, filename="claims-again.pdf")
    assert body(registry.get(content_url(second))) == content


def test_a_missing_blob_is_restored_by_a_new_upload(registry, dossier):
    content = os.urandom(4096)
    first = file_document(dossier, content, filename="claims.pdf")
    remove(sha256_of(content))
    run_fixity()
    assert registry.get(content_url(first)).status_code == 503
    assert [e.payload["problem"] for e in events(EventKind.BLOB_CORRUPTED)] == ["missing"]
    file_document(dossier, content, filename="claims-again.pdf")
    assert body(registry.get(content_url(first))) == content
    assert len(events(EventKind.BLOB_REPAIRED)) == 1


def test_a_copy_restored_behind_edms_is_served_again_after_fixity(registry, dossier):
    content = os.urandom(4096)
    document = file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    run_fixity()
    tamper(sha256_of(content))  # flipped back: an operator restored it from a backup
    call_command("fixity", stdout=io.StringIO())
    assert body(registry.get(content_url(document))) == content
    (repaired,) = events(EventKind.BLOB_REPAIRED)
    assert repaired.payload["by"] == "fixity"


def test_a_download_of_the_old_copy_does_not_condemn_the_repaired_one(registry, dossier):
    content = os.urandom(4096)
    document = file_document(dossier, content, filename="claims.pdf")
    if blobstore.local_path(sha256_of(content)) is None:
        pytest.skip("needs a file that stays open across its replacement (filesystem storage)")
    tamper(sha256_of(content))
    response = registry.get(content_url(document))  # has the altered copy open
    file_document(dossier, content, filename="claims-again.pdf")  # replaces it meanwhile
    with pytest.raises(blobstore.ContentCorrupt):
        body(response)
    assert not Blob.objects.get(pk=sha256_of(content)).is_corrupt
    assert body(registry.get(content_url(document))) == content
    assert events(EventKind.BLOB_CORRUPTED) == []


def test_an_export_does_not_carry_altered_content_as_good(registry, dossier):
    content = os.urandom(4096)
    file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    response = registry.get(f"/api/v1/dossiers/{dossier.key}/export")
    assert response.status_code == 200
    with pytest.raises(blobstore.ContentCorrupt):
        b"".join(response.streaming_content)


def test_the_event_feed_announces_corruption_and_repair(registry, dossier):
    content = os.urandom(4096)
    document = file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    run_fixity()
    file_document(dossier, content, filename="claims-again.pdf")
    feed = registry.get("/api/v1/events", {"limit": 1000}).json()["events"]
    blob_events = [e for e in feed if e["kind"].startswith("blob.")]
    assert [(e["kind"], e["document"], e["payload"]["sha256"]) for e in blob_events] == [
        ("blob.corrupted", str(document.id), sha256_of(content)),
        ("blob.repaired", str(document.id), sha256_of(content)),
    ]
    schema = registry.get("/api/v1/schema", {"format": "json"}).json()
    kinds = schema["components"]["schemas"]["EventKindEnum"]["enum"]
    assert {"blob.corrupted", "blob.repaired"} <= set(kinds)


# --- Real server: a verified download streams, memory-flat, and is cut short when altered -----

DOWNLOAD_MB = 160


def download(server, url: str, key: str) -> tuple[int, bytes | None, int]:
    """GET `url`, reading the body in 1 MiB pieces: (status, digest or None if cut short,
    bytes received)."""
    conn = server.connect()
    try:
        conn.request("GET", url, headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        length = int(response.headers.get("Content-Length", -1))
        digest = hashlib.sha256()
        received = 0
        try:
            while piece := response.read(1024 * 1024):
                digest.update(piece)
                received += len(piece)
        except (http.client.IncompleteRead, ConnectionError):
            return response.status, None, received
        # `read(n)` ends quietly at a connection closed early: compare with Content-Length.
        if received != length:
            return response.status, None, received
        return response.status, digest.hexdigest().encode(), received
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_download_is_verified_streamed_and_cut_short_when_altered(
    registry_key, dossier, tmp_path
):
    staged = blobstore.spool(
        pattern_chunks("download", DOWNLOAD_MB), filename="big.bin", max_size=2**40
    )
    document = file_document(dossier, b"warm-up content", filename="small.bin")
    big = actions.add_version(document, staged, actor=Actor(label="tests"))
    expected = pattern_digest("download", DOWNLOAD_MB)
    assert big.blob_id == expected
    try:
        with gunicorn_server(tmp_path) as server:
            # Warm the worker up on the same code path, so imports are not counted.
            warm_up = f"/api/v1/documents/{document.id}/versions/1/content"
            status, _, _ = download(server, warm_up, registry_key)
            assert status == 200, server.log_tail()
            workers = server.workers()
            baseline = max(worker.memory_info().rss for worker in workers)
            sampler = RssSampler(workers)
            sampler.start()
            try:
                status, digest, received = download(server, content_url(document), registry_key)
            finally:
                peak = sampler.stop()
            assert status == 200, server.log_tail()
            assert digest == expected.encode()
            assert received == DOWNLOAD_MB * 1024 * 1024
            growth = peak - baseline
            assert sampler.samples > 10, "the sampler did not watch the download"
            assert growth < MEMORY_BOUND, f"the worker grew by {growth / 2**20:.0f} MB"

            tamper(expected)
            status, digest, received = download(server, content_url(document), registry_key)
            assert status == 200  # the headers had left before the damage was found
            assert digest is None, "an altered download completed as if it were good"
            assert received < DOWNLOAD_MB * 1024 * 1024
            assert Blob.objects.get(pk=expected).is_corrupt  # marked by the server
            status, _, _ = download(server, content_url(document), registry_key)
            assert status == 503
    finally:
        remove(expected)


# --- The proof of concept in a real browser --------------------------------------------------

# What the proof of concept did: read the examiner's CSRF token and retitle another document
# through the API. A synchronous request, so it has happened before the page's load event.
TAKEOVER = """(function () {
  var token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  var request = new XMLHttpRequest();
  request.open("PATCH", "/api/v1/documents/%s", false);
  request.setRequestHeader("Content-Type", "application/json");
  request.setRequestHeader("X-CSRFToken", token);
  request.send(JSON.stringify({title: "taken over with token " + token.length}));
})();"""


def hostile_files(victim_id: str) -> dict[str, bytes]:
    script = (TAKEOVER % victim_id).encode()
    html = b"<!doctype html><html><body><p>Hello</p><script>" + script + b"</script></body></html>"
    return {
        "page.html": html,
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80">'
        b"<script><![CDATA[" + script + b"]]></script></svg>",
        "page.xhtml": b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hello</p>'
        b"<script><![CDATA[" + script + b"]]></script></body></html>",
        "note.txt": html,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "page.xhtml", "note.txt"])
def test_a_filed_document_runs_no_script_in_the_browser(page, dossier, name):
    from playwright.sync_api import Error as PlaywrightError

    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    victim = file_document(dossier, title="Untouched", filename="victim.pdf")
    hostile = file_document(dossier, hostile_files(str(victim.id))[name], filename=name)
    sign_in(page, "erika")
    try:
        page.goto(content_url(hostile, disposition="inline"))
    except PlaywrightError as error:  # an attachment: the browser downloads it instead
        assert "Download is starting" in str(error)
    victim.refresh_from_db()
    assert victim.title == "Untouched", f"{name}'s script ran on the application's origin"

    page.goto(f"/documents/{hostile.id}")  # the viewer shows its text (none yet), not the file
    page.wait_for_selector("#text-view:not(:empty)")
    victim.refresh_from_db()
    assert victim.title == "Untouched", f"the viewer ran {name}'s script"

    # The control: the same script, run on a page of the application, does take over, so the
    # checks above would have seen it run.
    page.evaluate(TAKEOVER % victim.id)
    victim.refresh_from_db()
    assert victim.title.startswith("taken over with token ")


def test_subscribers_take_blob_events_in_their_stride(registry, dossier):
    content = os.urandom(4096)
    file_document(dossier, content, filename="claims.pdf")
    tamper(sha256_of(content))
    run_fixity()
    file_document(dossier, content, filename="claims-again.pdf")
    blob_events = list(Event.objects.filter(kind__startswith="blob."))
    assert len(blob_events) == 2
    processings = Processing.objects.count()
    for subscriber in outbox.subscribers().values():
        subscriber(blob_events)  # none fails on a kind it does not act on
    assert indexer.affected_documents(blob_events) == []
    assert Processing.objects.count() == processings  # nothing queued again
