"""Resumable uploads (tus 1.0, `/api/v1/uploads`) driven by the real `tuspy` client against a
live server: a whole upload, one resumed after an interruption, a bad chunk checksum, a size or
SHA-256 that does not match what was declared, a completed upload asked about again after the
answer to its last PATCH was lost, and expired sessions swept away."""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import io
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from api.models import ApiKey, UploadSession
from api.resumable import OFFSET_STREAM
from dossier.models import AuditEvent, Document, DocumentState, Version
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.ingest_support import CORPUS

CORPUS_PDF = CORPUS / "pdf/1cad1de9_ArabicCIDTrueType.pdf"

KEY = "BG/P/2024/000123"
# A live server needs committed rows; the seeded roles and document types are restored after.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Sha256Uploader(Uploader):
    """tuspy with the checksum edms files content under (tuspy's default is sha1)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture(autouse=True)
def resumable_dir(settings, tmp_path):
    """Each test's own spool folder (the live server reads the same settings)."""
    settings.EDMS_RESUMABLE_DIR = str(tmp_path / "resumable")


@pytest.fixture
def tus(live_server, registry_key):
    return tus_client.TusClient(
        f"{live_server.url}/api/v1/uploads", headers={"Authorization": f"Bearer {registry_key}"}
    )


@pytest.fixture
def tus_headers(registry_key) -> dict[str, str]:
    """What a plain HTTP call to the upload sends: the protocol version and the registry's key."""
    return {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {registry_key}"}


@pytest.fixture
def new_upload(tus, tmp_path):
    """`new_upload(content)`: a tuspy uploader (not started) of a file holding `content` (or
    that many random bytes), to become a new document of dossier KEY, made now; with
    `checksum=True` each chunk carries its SHA-256."""
    create_dossier(KEY)

    def start(
        content: bytes | int = 10_000,
        *,
        chunk_size: int = 4096,
        name: str = "a.bin",
        checksum: bool = False,
        **metadata,
    ) -> Uploader:
        path = tmp_path / name
        path.write_bytes(os.urandom(content) if isinstance(content, int) else content)
        return Sha256Uploader(
            file_path=str(path),
            client=tus,
            chunk_size=chunk_size,
            metadata=new_document_metadata(path, **metadata),
            upload_checksum=checksum,
        )

    return start


def spools() -> list[str]:
    folder = Path(settings.EDMS_RESUMABLE_DIR)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def new_document_metadata(path: Path, **extra) -> dict[str, str]:
    return {
        "filename": path.name,
        "filetype": "application/pdf",
        "dossier": KEY,
        "type": "CLM",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        **extra,
    }


def resumed(tus, uploader: Uploader, chunk_size: int = 4096, checksum: bool = True) -> Uploader:
    """A new client with only the upload's URL (and the file): it asks where the upload stands."""
    return Sha256Uploader(
        file_path=uploader.file_path,
        url=uploader.url,
        client=tus,
        chunk_size=chunk_size,
        upload_checksum=checksum,
    )


def content_of(uploader: Uploader) -> bytes:
    return Path(uploader.file_path).read_bytes()


def patch_at(
    url: str, headers: dict[str, str], offset: int, data: bytes = b"", checksum: str = ""
) -> requests.Response:
    """A PATCH sent by hand (not by tuspy): `data` at `offset`, with `checksum` if given."""
    sent = {**headers, "Content-Type": OFFSET_STREAM, "Upload-Offset": str(offset)}
    if checksum:
        sent["Upload-Checksum"] = checksum
    return requests.patch(url, data=data, headers=sent)


def raw_patch(url: str, key: str, offset: int, sent: bytes, declared: int) -> socket.socket:
    """A PATCH written on a bare connection, announcing `declared` bytes and sending `sent`:
    the connection, still open (close it to hang up)."""
    target = urlsplit(url)
    connection = socket.create_connection((target.hostname, target.port))
    connection.sendall(
        (
            f"PATCH {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
            f"Authorization: Bearer {key}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: {OFFSET_STREAM}\r\nUpload-Offset: {offset}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        ).encode()
        + sent
    )
    return connection


def test_a_whole_upload_becomes_a_document_with_its_version_1(tus):
    dossier = create_dossier(KEY)
    content = CORPUS_PDF.read_bytes()
    uploader = tus.uploader(
        str(CORPUS_PDF), chunk_size=8192, metadata=new_document_metadata(CORPUS_PDF)
    )
    uploader.upload()

    version = Version.objects.select_related("document", "blob").get()
    assert version.number == 1
    assert version.document.dossier_id == dossier.id
    assert version.document.doc_type.code == "CLM"
    assert version.filename == CORPUS_PDF.name
    assert version.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert version.blob.size == len(content)
    assert AuditEvent.objects.filter(action="document.attach", object_id=version.document_id)
    # The spool is gone once the content is filed; the session keeps only the outcome.
    assert spools() == []
    session = UploadSession.objects.get()
    assert session.completed_at is not None
    assert (session.filed_document_id, session.filed_version) == (version.document_id, 1)


def test_an_interrupted_upload_resumes_where_the_server_stands(tus, new_upload, tus_headers):
    first = new_upload(300_000, chunk_size=64 * 1024, name="annex.bin", checksum=True)
    content = content_of(first)
    first.upload_chunk()
    first.upload_chunk()  # ...and then the client goes away
    assert first.offset == 128 * 1024
    assert not Document.objects.exists()

    # A new client with only the URL asks where the upload stands and sends the rest.
    head = requests.head(first.url, headers=tus_headers)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(128 * 1024)
    assert head.headers["Upload-Length"] == str(len(content))
    assert "Upload-Expires" in head.headers
    second = resumed(tus, first, chunk_size=100_000)
    assert second.offset == 128 * 1024
    second.upload()

    version = Version.objects.select_related("blob").get()
    assert version.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert version.blob.size == len(content)
    assert spools() == []


def test_the_bytes_of_a_patch_cut_off_midway_are_kept_and_the_upload_resumes_after_them(
    tus, new_upload, registry_key
):
    uploader = new_upload(200_000, name="annex.bin")
    content = content_of(uploader)
    uploader.set_url(uploader.create_url())
    # The line drops after 70,000 of the 200,000 bytes the PATCH announced.
    with raw_patch(uploader.url, registry_key, 0, content[:70_000], len(content)) as connection:
        connection.shutdown(socket.SHUT_WR)
        connection.recv(65536)  # the server has taken what arrived
    rest = resumed(tus, uploader, chunk_size=200_000, checksum=False)
    assert rest.offset == 70_000
    rest.upload()
    version = Version.objects.select_related("blob").get()
    assert version.blob.sha256 == hashlib.sha256(content).hexdigest()


def test_an_upload_with_a_document_id_becomes_its_next_version(tus, tmp_path):
    document = file_document(create_dossier(KEY))
    path = tmp_path / "claims-v2.txt"
    path.write_bytes(b"amended claims\n" * 1000)
    tus.uploader(
        str(path), chunk_size=4096, metadata={"document": str(document.id), "filename": path.name}
    ).upload()
    assert list(document.versions.values_list("number", flat=True).order_by("number")) == [1, 2]
    assert document.versions.get(number=2).filename == "claims-v2.txt"


def test_a_chunk_that_does_not_match_its_checksum_is_refused_and_not_appended(
    tus, new_upload, tus_headers
):
    uploader = new_upload()
    uploader.upload_chunk()
    wrong = hashlib.sha256(b"something else").digest()
    response = patch_at(
        uploader.url,
        tus_headers,
        4096,
        content_of(uploader)[4096:8192],
        checksum="sha256 " + base64.b64encode(wrong).decode(),
    )
    assert response.status_code == 460
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/checksum-mismatch"
    session = UploadSession.objects.get()
    assert session.offset == 4096
    assert os.path.getsize(session.spool_path) == 4096  # nothing of the bad chunk kept
    # The right bytes are then taken from the same offset.
    resumed(tus, uploader).upload()
    assert Version.objects.get().blob.size == 10_000


def test_a_patch_at_the_wrong_offset_is_a_conflict(new_upload, tus_headers):
    uploader = new_upload()
    uploader.upload_chunk()
    response = patch_at(uploader.url, tus_headers, 0, b"x" * 100)
    assert response.status_code == 409
    assert response.json()["offset"] == 4096
    assert UploadSession.objects.get().offset == 4096


def test_content_that_is_not_the_declared_sha256_is_refused_and_nothing_stored(
    new_upload, tus_headers
):
    uploader = new_upload(20_000, chunk_size=8192, sha256=hashlib.sha256(b"other").hexdigest())
    with pytest.raises(TusUploadFailed) as failure:
        uploader.upload()
    assert failure.value.status_code == 422
    assert b"digest-mismatch" in failure.value.response_content
    assert not Document.objects.exists()
    assert not Version.objects.exists()
    assert spools() == []
    # The refusal is the upload's outcome: asked again, it is the same 422, and nothing is filed.
    assert UploadSession.objects.get().failure["slug"] == "digest-mismatch"
    head = requests.head(uploader.url, headers=tus_headers)
    assert head.status_code == 422
    assert head.headers["Content-Type"] == "application/problem+json"
    again = patch_at(uploader.url, tus_headers, 20_000)
    assert again.status_code == 422
    assert again.json()["type"] == "/api/v1/problems/digest-mismatch"
    assert not Document.objects.exists()


def head_until_complete(url: str, headers: dict[str, str]) -> requests.Response:
    """HEAD until the upload's outcome is there (the server files it after the hang-up)."""
    deadline = time.monotonic() + 30
    while True:
        head = requests.head(url, headers=headers)
        if "Edms-Document-Id" in head.headers or time.monotonic() > deadline:
            return head
        time.sleep(0.1)


def test_a_completed_upload_whose_last_answer_was_lost_tells_its_document_and_files_once(
    tus, new_upload, registry_key, tus_headers
):
    uploader = new_upload(30_000, chunk_size=10_000, name="annex.bin")
    content = content_of(uploader)
    uploader.upload_chunk()
    uploader.upload_chunk()
    # The last PATCH, whose answer never reaches the client: the line drops once it is sent.
    raw_patch(uploader.url, registry_key, 20_000, content[20_000:], 10_000).close()

    # The client asks where the upload stands: it is complete, and it says what it became.
    head = head_until_complete(uploader.url, tus_headers)
    assert head.status_code == 200
    version = Version.objects.select_related("blob").get()
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == "30000"
    assert head.headers["Edms-Document-Id"] == str(version.document_id)
    assert head.headers["Edms-Version"] == "1"
    assert version.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert spools() == []

    # The last PATCH again, at the end: the same answer, and no second document.
    again = patch_at(uploader.url, tus_headers, 30_000)
    assert again.status_code == 204
    assert again.headers["Edms-Document-Id"] == str(version.document_id)
    assert again.headers["Edms-Version"] == "1"
    assert again.headers["Content-Location"] == f"/api/v1/documents/{version.document_id}"
    # Resent from where it had started, it is told the upload stands at its end.
    resent = patch_at(uploader.url, tus_headers, 20_000, content[20_000:])
    assert resent.status_code == 409
    assert resent.json()["offset"] == 30_000
    # A tus client resuming from the URL finds nothing left to send.
    rest = resumed(tus, uploader, checksum=False)
    assert rest.offset == 30_000
    rest.upload()
    assert Document.objects.count() == 1
    assert Version.objects.count() == 1


def test_completed_uploads_are_swept_once_expired(new_upload, tus_headers):
    uploader = new_upload(5_000)
    uploader.upload()
    assert UploadSession.objects.get().completed_at is not None
    call_command("sweep", stdout=io.StringIO())
    assert UploadSession.objects.exists()  # not expired yet: still asked about
    UploadSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert "; 1 expired uploads removed" in out.getvalue()
    assert not UploadSession.objects.exists()
    assert requests.head(uploader.url, headers=tus_headers).status_code == 404
    assert Version.objects.count() == 1  # the document stays, of course


def test_more_bytes_than_the_declared_length_are_refused(new_upload, tus_headers):
    uploader = new_upload(1000, chunk_size=500)
    uploader.upload_chunk()
    response = patch_at(uploader.url, tus_headers, 500, os.urandom(600))
    assert response.status_code == 400
    session = UploadSession.objects.get()
    assert session.offset == 500
    assert os.path.getsize(session.spool_path) == 500
    assert not Document.objects.exists()


def test_creation_refuses_a_wrong_target_or_no_credentials(tus, live_server, tmp_path):
    create_dossier(KEY)
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    with pytest.raises(TusCommunicationError) as failure:
        tus.uploader(str(path), metadata={"dossier": KEY, "type": "NOPE"}).upload()
    assert failure.value.status_code == 400
    anonymous = tus_client.TusClient(f"{live_server.url}/api/v1/uploads")
    with pytest.raises(TusCommunicationError) as failure:
        anonymous.uploader(str(path), metadata={"dossier": KEY, "type": "CLM"}).upload()
    assert failure.value.status_code == 401
    assert not UploadSession.objects.exists()


def test_options_announce_the_protocol(live_server, registry_key):
    response = requests.options(
        f"{live_server.url}/api/v1/uploads", headers={"Authorization": f"Bearer {registry_key}"}
    )
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "checksum",
        "expiration",
        "termination",
    }
    assert "sha256" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_delete_terminates_the_upload_and_its_spool(new_upload, tus_headers):
    uploader = new_upload()
    uploader.upload_chunk()
    assert requests.delete(uploader.url, headers=tus_headers).status_code == 204
    assert not UploadSession.objects.exists()
    assert spools() == []
    assert requests.head(uploader.url, headers=tus_headers).status_code == 404


def test_expired_uploads_are_gone_and_swept_with_their_spools(new_upload, tus_headers):
    stale = new_upload()
    stale.upload_chunk()
    fresh = new_upload()
    fresh.upload_chunk()
    past = timezone.now() - dt.timedelta(seconds=1)
    UploadSession.objects.filter(id=stale.url.rsplit("/", 1)[-1]).update(expires_at=past)
    assert len(spools()) == 2

    assert requests.head(stale.url, headers=tus_headers).status_code == 410
    assert requests.head(fresh.url, headers=tus_headers).status_code == 200
    # The sweep takes what a caller never came back for.
    other = UploadSession.objects.get()
    other.expires_at = past
    other.save()
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert "; 1 expired uploads removed" in out.getvalue()
    assert not UploadSession.objects.exists()
    assert spools() == []


def test_an_upload_is_its_creators_alone(new_upload):
    uploader = new_upload()
    uploader.upload_chunk()
    _, other_key = ApiKey.create("other-system", Role.REGISTRY_SYSTEM)
    headers = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {other_key}"}
    head = requests.head(uploader.url, headers=headers)
    assert head.status_code == 404
    assert "Upload-Offset" not in head.headers
    assert requests.delete(uploader.url, headers=headers).status_code == 404
    assert UploadSession.objects.get().offset == 4096


def test_without_credentials_an_upload_answers_401_and_stays_as_it_was(new_upload):
    uploader = new_upload()
    uploader.upload_chunk()
    anonymous = {"Tus-Resumable": "1.0.0"}
    head = requests.head(uploader.url, headers=anonymous)
    assert head.status_code == 401
    assert "Upload-Offset" not in head.headers
    patch = requests.patch(
        uploader.url,
        data=b"x",
        headers={**anonymous, "Upload-Offset": "4096", "Content-Type": OFFSET_STREAM},
    )
    assert patch.status_code == 401
    assert patch.headers["Content-Type"] == "application/problem+json"
    assert requests.delete(uploader.url, headers=anonymous).status_code == 401
    assert UploadSession.objects.get().offset == 4096


def test_a_new_version_of_a_cancelled_document_is_refused_before_any_byte(tus, tmp_path):
    document = file_document(create_dossier(KEY))
    Document.objects.filter(id=document.id).update(state=DocumentState.CANCELLED)
    path = tmp_path / "a.bin"
    path.write_bytes(b"late amendment")
    with pytest.raises(TusCommunicationError) as failure:
        tus.uploader(str(path), metadata={"document": str(document.id)}).upload()
    assert failure.value.status_code == 409
    assert not UploadSession.objects.exists()


def test_a_second_writer_at_the_same_time_is_refused(new_upload):
    uploader = new_upload()
    uploader.upload_chunk()
    session = UploadSession.objects.get()
    with open(session.spool_path, "rb") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)  # a PATCH to this upload is being written
        with pytest.raises(TusUploadFailed) as failure:
            uploader.upload_chunk()
        assert failure.value.status_code == 409
        assert b"writing to this upload" in failure.value.response_content
    assert os.path.getsize(session.spool_path) == 4096
    uploader.upload()  # once the other is done
    assert Version.objects.get().blob.size == 10_000


def test_a_chunk_larger_than_the_in_memory_body_limit_streams_through(tus, settings):
    """A PATCH body is never read into memory: one bigger than DATA_UPLOAD_MAX_MEMORY_SIZE
    (what a JSON body may be) goes through like any."""
    big = CORPUS / "pdf/9900c4c7_unreadablemetadata.pdf"
    assert big.stat().st_size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    create_dossier(KEY)
    uploader = tus.uploader(
        str(big), chunk_size=4 * 1024 * 1024, metadata=new_document_metadata(big)
    )
    uploader.upload()
    assert Version.objects.get().blob.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
