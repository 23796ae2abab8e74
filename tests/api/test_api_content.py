"""Downloads: `GET /api/v1/documents/{id}/content` and `/versions/{n}/content` — streamed, with
the SHA-256 as ETag, conditional requests, byte ranges and the original Unicode filename."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import unquote

import pytest

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import AuditEvent
from tests.conftest import file_document

CONTENT = bytes(range(256)) * 4  # 1024 bytes, each offset recognisable
FILENAME = "Заявка №1.pdf"


@pytest.fixture
def document(dossier):
    return file_document(dossier, CONTENT, filename=FILENAME)


def content_url(document, number: int | None = None) -> str:
    if number is None:
        return f"/api/v1/documents/{document.id}/content"
    return f"/api/v1/documents/{document.id}/versions/{number}/content"


def body(response) -> bytes:
    assert response.streaming, "downloads must stream, not be built in memory"
    return b"".join(response.streaming_content)


def etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()}"'


def downloads() -> int:
    return AuditEvent.objects.filter(action="document.download").count()


def test_latest_content(registry, document):
    response = registry.get(content_url(document))
    assert response.status_code == 200
    # Streamed through the digest check (tests/system/test_security_content.py), not sendfile'd.
    assert response.streaming
    assert body(response) == CONTENT
    assert response["ETag"] == etag(CONTENT)
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"


def test_versions_by_number(registry, document):
    second = os.urandom(300)
    actions.add_version(
        document, blobstore.spool([second], filename="v2.bin"), actor=Actor(label="tests")
    )
    assert body(registry.get(content_url(document))) == second
    assert body(registry.get(content_url(document, 2))) == second
    first = registry.get(content_url(document, 1))
    assert body(first) == CONTENT
    assert first["ETag"] == etag(CONTENT)
    assert registry.get(content_url(document, 2))["ETag"] == etag(second)


def test_unknown_version(registry, document):
    response = registry.get(content_url(document, 7))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/unknown-version"


def test_unicode_filename_in_content_disposition(registry, document):
    disposition = registry.get(content_url(document))["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=", 1)[1]
    charset, _, quoted = encoded.split("'", 2)
    assert charset.lower() == "utf-8"
    assert unquote(quoted) == FILENAME


def test_inline_disposition_on_request(registry, document):
    response = registry.get(content_url(document), {"disposition": "inline"})
    assert response["Content-Disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=-5", 1019, 1023),  # suffix: the last five bytes
        ("bytes=10-", 10, 1023),  # open-ended
        ("bytes=1000-5000", 1000, 1023),  # clipped to the end
        ("bytes=-5000", 0, 1023),  # suffix longer than the content
    ],
)
def test_byte_ranges(registry, document, header, start, end):
    response = registry.get(content_url(document), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["ETag"] == etag(CONTENT)
    assert body(response) == CONTENT[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0", "bytes=9-3"])
def test_unsatisfiable_range(registry, document, header):
    response = registry.get(content_url(document), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/range-not-satisfiable"
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-3", "bytes=a-b"])
def test_ranges_we_do_not_serve_get_everything(registry, document, header):
    response = registry.get(content_url(document), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_if_none_match_is_not_modified(registry, document):
    response = registry.get(content_url(document), HTTP_IF_NONE_MATCH=etag(CONTENT))
    assert response.status_code == 304
    assert response["ETag"] == etag(CONTENT)
    assert response.content == b""


def test_if_none_match_with_another_tag_sends_content(registry, document):
    response = registry.get(content_url(document), HTTP_IF_NONE_MATCH='"0000", "1111"')
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_if_range_match_honours_the_range(registry, document):
    response = registry.get(
        content_url(document), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag(CONTENT)
    )
    assert response.status_code == 206
    assert body(response) == CONTENT[:10]


def test_if_range_mismatch_sends_everything(registry, document):
    response = registry.get(
        content_url(document), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"an-older-version"'
    )
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == CONTENT


def test_downloads_are_audited(registry, document):
    before = downloads()
    body(registry.get(content_url(document), HTTP_X_REQUEST_ID="dl-1"))
    body(registry.get(content_url(document, 1), HTTP_RANGE="bytes=0-9"))
    assert downloads() == before + 2
    full, ranged = AuditEvent.objects.filter(action="document.download").order_by("id")
    assert full.object_id == str(document.id)
    assert full.actor_label == "ipas"
    assert full.request_id == "dl-1"
    assert full.detail["version"] == 1
    assert full.detail["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert ranged.detail["range"] == "bytes=0-9"


def test_not_modified_is_not_a_download(registry, document):
    registry.get(content_url(document), HTTP_IF_NONE_MATCH=etag(CONTENT))
    assert downloads() == 0


def test_hidden_content_is_not_found_for_the_public(public, document):
    # The dossier is not published: nothing of it is public yet.
    response = public.get(content_url(document))
    assert response.status_code == 404
    assert downloads() == 0


def test_public_download_after_publication(public, registry, dossier, document):
    registry.put("/api/v1/dossiers/BG/P/2024/000123", {"published_at": "2024-01-01"}, format="json")
    response = public.get(content_url(document))
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert AuditEvent.objects.get(action="document.download").actor_label == "anonymous"


def test_missing_blob_is_a_problem_not_a_crash(registry, dossier):
    content = os.urandom(64)
    document = file_document(dossier, content)
    path = blobstore.local_path(hashlib.sha256(content).hexdigest())
    if path is None:
        pytest.skip("the blob store is not a local filesystem")
    os.chmod(path, 0o644)
    os.unlink(path)
    response = registry.get(content_url(document), HTTP_RANGE="bytes=0-3")
    assert response.status_code == 503
    assert response.json()["type"] == "/api/v1/problems/content-unavailable"


def test_version_zero_does_not_exist(registry, document):
    # Version numbers start at 1; 0 must not fall back to "the latest".
    response = registry.get(content_url(document, 0))
    assert response.status_code == 404
    assert response.json()["type"] == "/api/v1/problems/unknown-version"
