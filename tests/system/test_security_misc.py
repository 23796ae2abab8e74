"""Security findings of issue 10 (webhooks, API keys, spool files, filenames, exports), replayed.

Each test repeats what an attacker or a careless operator did and shows it no longer works.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from api import export
from api.models import ApiKey
from api.uploads import clean_filename
from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Document
from dossier.roles import Role
from edms import launcher
from ingest.sweeper import sweep
from tests.conftest import client_for_key, create_dossier, file_document
from tests.factories import UserFactory
from webhooks import attempts
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

SECRET_ANSWER = b"aws_secret_access_key=wJalrXUtnFEMI"

# --- Webhooks: no requests to this machine, the intranet or a metadata service ----------------


@contextmanager
def http_receiver(status: int = 500) -> Iterator[list[bytes]]:
    """An HTTP server on 127.0.0.1 answering `status` with a secret in the body; yields the
    bodies it received, and its port as the list's `port` attribute."""
    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(status)
            self.send_header("Content-Length", str(len(SECRET_ANSWER)))
            self.end_headers()
            self.wfile.write(SECRET_ANSWER)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Received(list):
    port: int = 0


@contextmanager
def raw_tcp_service(banner: bytes) -> Iterator[int]:
    """Not an HTTP server: answers every connection with `banner` (an SSH server, a Redis)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


def create_hook(client, url: str):
    return client.post("/api/v1/webhooks", {"url": url}, format="json")


def ping_now(hook_id: int) -> WebhookDelivery:
    """Send the webhook a ping at once (the test drives the attempt, no task queue)."""
    delivery = WebhookDelivery.objects.create(
        webhook_id=hook_id, kind="ping", next_attempt_at=timezone.now()
    )
    attempts.attempt(delivery.pk)
    delivery.refresh_from_db()
    return delivery


REFUSED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "api.localhost",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.0.10",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "169.254.1.1",  # link-local
    "0.0.0.0",
    "224.0.0.1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0177.0.0.1",  # octal
    "0x7f.1",  # hex, short form
    "127.1",
    "017700000001",
    "[::1]",
    "[::]",
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "[fc00::1]",
    "[fe80::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",  # 169.254.169.254, mapped, in hex
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "100.100.100.200",  # Alibaba metadata
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_webhook_to_a_private_address_is_refused_when_created(registry, host):
    response = create_hook(registry, f"http://{host}:8080/hook")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "url"
    assert not Webhook.objects.exists()


def test_a_webhook_changed_to_a_private_address_is_refused(registry):
    created = create_hook(registry, "https://93.184.216.34/hook")
    assert created.status_code == 201, created.content
    hook = created.json()
    response = registry.patch(
        f"/api/v1/webhooks/{hook['id']}", {"url": "http://169.254.169.254/latest/"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "url"
    assert Webhook.objects.get().url == "https://93.184.216.34/hook"


def test_the_metadata_service_stays_refused_when_its_network_is_allowed(registry, settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = ["169.254.0.0/16", "fd00::/8"]
    assert create_hook(registry, "http://169.254.10.10/hook").status_code == 201
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"):
        response = create_hook(registry, url)
        assert response.status_code == 400
        assert "metadata" in response.json()["detail"]


def test_a_name_resolving_to_loopback_is_refused_at_delivery(registry, settings):
    """A name is checked after it is resolved: one stored before the check existed, or one
    whose DNS now answers a private address (DNS rebinding), gets nothing sent to it."""
    with http_receiver(200) as received:
        hook = Webhook.objects.create(
            owner=ApiKey.objects.get(name="ipas").user,
            url=f"http://localhost:{received.port}/hook",
        )
        delivery = ping_now(hook.pk)
        assert delivery.state == "failed"
        assert delivery.last_error.startswith("refused: localhost resolves to")
        assert received == []

        # The same name, its addresses allowed: resolved, checked and delivered.
        settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
        assert ping_now(hook.pk).state == "delivered"
        assert len(received) == 1


def test_an_address_no_longer_allowed_is_refused_at_delivery(registry, settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with http_receiver(200) as received:
        hook = create_hook(registry, f"http://127.0.0.1:{received.port}/hook").json()
        assert ping_now(hook["id"]).state == "delivered"
        settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = []
        delivery = ping_now(hook["id"])
        assert delivery.state == "failed"
        assert "not a public address" in delivery.last_error
        assert len(received) == 1


def test_the_delivery_log_keeps_the_status_code_not_the_answer(registry, settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with http_receiver(404) as received:
        hook = create_hook(registry, f"http://127.0.0.1:{received.port}/hook").json()
        delivery = ping_now(hook["id"])
    assert (delivery.state, delivery.last_status_code) == ("failed", 404)
    shown = registry.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
    assert shown[0]["last_status_code"] == 404
    assert SECRET_ANSWER.decode() not in shown[0]["last_error"]
    assert "wJalrXUtnFEMI" not in shown[0]["last_error"]


def test_a_service_that_is_not_http_does_not_leak_its_banner(registry, settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with raw_tcp_service(b"SSH-2.0-OpenSSH_9.6 internal-bastion-7\r\n") as port:
        hook = create_hook(registry, f"http://127.0.0.1:{port}/hook").json()
        delivery = ping_now(hook["id"])
    assert delivery.last_status_code is None
    assert "OpenSSH" not in delivery.last_error and "bastion" not in delivery.last_error


def test_answers_logged_before_the_upgrade_are_forgotten(registry):
    migration = import_module("api.migrations.0003_webhook_delivery_errors_without_answers")
    hook = create_hook(registry, "https://93.184.216.34/hook").json()
    logged = {
        "HTTP 404: aws_secret_access_key=wJalrXUtnFEMI": (404, "HTTP 404"),
        "HTTP 302 to http://10.0.0.7/admin: redirects are not followed": (
            302,
            "HTTP 302: redirects are not followed",
        ),
        "ProtocolError: ('Connection aborted.', BadStatusLine('SSH-2.0-OpenSSH_9.6'))": (
            None,
            "ProtocolError: the answer is not HTTP, or the connection broke",
        ),
        "cannot connect: connection refused": (None, "cannot connect: connection refused"),
    }
    for error, (status, _) in logged.items():
        WebhookDelivery.objects.create(
            webhook_id=hook["id"], kind="ping", last_status_code=status, last_error=error
        )
    # Run as `migrate` runs it: on the models as they stood after it (webhooks in `api`).
    at_0003 = MigrationExecutor(connection).loader.project_state(
        ("api", "0003_webhook_delivery_errors_without_answers")
    )
    migration.forget_answers(at_0003.apps, None)
    kept = {d.last_error for d in WebhookDelivery.objects.all()}
    assert kept == {expected for _, expected in logged.values()}


# --- createapikey: a key never takes over a person's account -----------------------------------


def _last_line(out: io.StringIO) -> str:
    return out.getvalue().rstrip("\n").splitlines()[-1]


def test_createapikey_named_like_the_superuser_is_refused():
    admin = get_user_model().objects.create_superuser("admin", "", "pw")
    with pytest.raises(CommandError, match="person's account"):
        call_command("createapikey", "--name", "admin", "--role", "examiner", stdout=io.StringIO())
    assert not ApiKey.objects.exists()
    admin.refresh_from_db()
    assert admin.is_superuser and not admin.groups.exists()


@pytest.mark.parametrize(
    "person",
    [
        {"password": "pw"},  # signs in with a password
        {"is_staff": True},
        {"last_login": timezone.now()},  # has signed in (without a password edms knows of)
    ],
)
def test_createapikey_named_like_a_person_leaves_them_alone(person):
    password = person.pop("password", None)
    user = get_user_model().objects.create_user("erika", password=password, **person)
    with pytest.raises(CommandError, match="'erika' is a person's account"):
        call_command("createapikey", "--name", "erika", "--role", "admin", stdout=io.StringIO())
    assert not ApiKey.objects.exists()
    assert not user.groups.exists()


def test_createapikey_reuses_its_own_service_user():
    """A key replaced (revoked, deleted, made again) acts as the same service user."""
    out = io.StringIO()
    call_command("createapikey", "--name", "ipas", stdout=out)
    first = ApiKey.objects.get(name="ipas")
    assert not first.user.has_usable_password()
    first.delete()
    call_command("createapikey", "--name", "ipas", stdout=(out := io.StringIO()))
    assert ApiKey.objects.get(name="ipas").user_id == first.user_id
    events = client_for_key(_last_line(out)).get("/api/v1/events")
    assert events.status_code == 200


def test_the_admin_does_not_attach_a_key_to_a_person(client):
    boss = get_user_model().objects.create_superuser("boss", "", "pw")
    client.force_login(boss)
    response = client.post("/admin/api/apikey/add/", {"name": "boss", "role": "examiner"})
    assert response.status_code == 200
    assert b"person&#x27;s account" in response.content
    assert not ApiKey.objects.exists()


# --- Spool files of killed uploads are reclaimed -------------------------------------------------


def _written_long_ago(path: Path, settings) -> Path:
    long_ago = time.time() - 7 * 24 * 3600  # beyond any age edms waits for
    os.utime(path, (long_ago, long_ago))
    return path


@pytest.fixture
def spool_dir(settings, tmp_path) -> Path:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def test_the_periodic_sweep_reclaims_a_killed_uploads_spool(spool_dir, settings):
    killed = spool_dir / "tmp1x2y3z.upload"
    killed.write_bytes(b"x" * 1024)
    _written_long_ago(killed, settings)
    # A killed ingestion run's work directory, nothing in it written for as long.
    workdir = spool_dir / "ingest-abc"
    workdir.mkdir()
    (workdir / "page-1.png").write_bytes(b"png")
    _written_long_ago(workdir / "page-1.png", settings)
    _written_long_ago(workdir, settings)
    # An upload still being written: touched with every chunk, however long it has been going.
    with open(spool_dir / "tmp4u5v6w.upload", "wb") as in_progress:
        in_progress.write(b"first chunk")
        in_progress.flush()
        # A work directory created long ago whose run is still writing into it.
        busy = spool_dir / "ingest-busy"
        busy.mkdir()
        (busy / "page-1.png").write_bytes(b"being rendered")
        _written_long_ago(busy, settings)

        sweep()

        assert sorted(p.name for p in spool_dir.iterdir()) == ["ingest-busy", "tmp4u5v6w.upload"]
        in_progress.write(b"second chunk")


def test_edms_run_reclaims_leftovers_when_it_starts(spool_dir, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path  # where `edms run` keeps the registry's key
    settings.STATIC_ROOT = tmp_path / "static"
    killed = spool_dir / "spool-abc"
    killed.write_bytes(b"303 MB, in spirit")
    _written_long_ago(killed, settings)
    leftovers = [killed]
    # Only a filesystem blob store stages promotions locally; on S3 the spool is all there is.
    if blobstore.local_path("0" * 64) is not None:
        staged = Path(blobstore.blob_storage().location) / blobstore.STAGING_DIR / "killed.part"
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(b"half promoted")
        _written_long_ago(staged, settings)
        leftovers.append(staged)

    launcher.prepare()

    assert not any(path.exists() for path in leftovers)
    expected = f"removed {len(leftovers)} spool/staging leftover(s)"
    assert expected in capsys.readouterr().out


# --- Raw-body filenames are cleaned like multipart ones ------------------------------------------

HOSTILE_NAMES = [
    "evil\x1b[31m\x07name\x00.txt",  # terminal escapes, bell, NUL
    "tab\there\x0b\x0c\x85\x7f.txt",  # other line breaks, DEL
    "..\\..\\windows\\system32\\evil.txt",  # Windows path separators
    "../../etc/passwd",
    "invoice\u202etxt.exe",  # right-to-left override: shows as "invoiceexe.txt"
    "x" * 300 + ".pdf",
]


def _add_version_raw(client, document_id, name: str, how: str):
    headers = (
        {"HTTP_X_FILENAME": quote(name)}
        if how == "x-filename"
        else {"HTTP_CONTENT_DISPOSITION": f"attachment; filename*=UTF-8''{quote(name)}"}
    )
    return client.generic(
        "POST",
        f"/api/v1/documents/{document_id}/versions",
        b"new content " + name.encode("utf-8", "replace"),
        content_type="application/octet-stream",
        **headers,
    )


@pytest.mark.parametrize("how", ["x-filename", "content-disposition"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_raw_filenames_are_cleaned_like_multipart_ones(registry, name, how):
    dossier = create_dossier()
    document = file_document(dossier)
    multipart = registry.post(
        f"/api/v1/documents/{document.id}/versions",
        {"file": SimpleUploadedFile(name, b"multipart " + name.encode("utf-8", "replace"))},
        format="multipart",
    )
    assert multipart.status_code == 201, multipart.content
    raw = _add_version_raw(registry, document.id, name, how)
    assert raw.status_code == 201, raw.content

    cleaned = raw.json()["filename"]
    assert cleaned == multipart.json()["filename"]
    assert cleaned.isprintable() and "/" not in cleaned and "\\" not in cleaned
    assert 0 < len(cleaned) <= 255
    assert cleaned == clean_filename(name)
    assert os.path.splitext(cleaned)[1] == os.path.splitext(name.replace("\u202e", ""))[1]


# --- Export: a missing blob is listed, the ZIP completes; the UI's ZIP follows the same rules ---

EXPORT_KEY = "BG/P/2024/000123"
TESTS = Actor(label="tests")


def _lose_content(document) -> str:
    """Remove a document's content from blob storage, as a failing disk or operator would."""
    sha256 = document.versions.get().blob_id
    blobstore.blob_storage().delete(blobstore.storage_key(sha256))
    return sha256


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None  # every member's CRC checks: a complete archive
    return archive


@pytest.fixture
def three_papers():
    dossier = create_dossier(EXPORT_KEY)
    return {
        "claims": file_document(dossier, b"1. A widget. " + os.urandom(8), filename="c.txt"),
        "lost": file_document(
            dossier, b"lost " + os.urandom(8), type_code="DESC", filename="desc.txt"
        ),
        "drawing": file_document(
            dossier, b"drawing " + os.urandom(8), type_code="DRW", filename="d.txt"
        ),
    }


def test_an_export_with_a_missing_blob_lists_it_and_completes(registry, three_papers):
    lost = _lose_content(three_papers["lost"])
    archive = _zip(registry.get(f"/api/v1/dossiers/{EXPORT_KEY}/export"))
    manifest = json.loads(archive.read("manifest.json"))
    assert [entry["sha256"] for entry in manifest["missing"]] == [lost]
    assert manifest["missing"][0]["document_id"] == str(three_papers["lost"].id)
    listed = {entry["path"] for entry in manifest["files"]}
    assert listed == set(archive.namelist()) - {"manifest.json"}
    assert len(listed) == 2
    assert manifest["missing"][0]["path"] not in archive.namelist()


def test_edms_export_with_a_missing_blob_writes_a_complete_package(three_papers, tmp_path):
    lost = _lose_content(three_papers["lost"])
    err = io.StringIO()
    examiner = UserFactory(role=Role.EXAMINER)
    call_command(
        "export",
        EXPORT_KEY,
        "--out",
        str(tmp_path),
        "--user",
        examiner.username,
        stdout=io.StringIO(),
        stderr=err,
    )
    [written] = tmp_path.glob("*.zip")
    with zipfile.ZipFile(written) as archive:
        assert archive.testzip() is None
        assert json.loads(archive.read("manifest.json"))["missing"][0]["sha256"] == lost
    assert lost in err.getvalue()


def test_content_lost_while_a_package_streams_costs_that_file_not_the_zip(three_papers):
    examiner = UserFactory(role=Role.EXAMINER)
    package = export.build_package(
        examiner, three_papers["claims"].dossier, Document.objects.all(), export.Selection()
    )
    assert len(package.files) == 3
    _lose_content(three_papers["drawing"])  # after the package was put together
    archive = zipfile.ZipFile(io.BytesIO(b"".join(package.stream())))
    assert archive.testzip() is None
    assert len(archive.namelist()) == 3  # the manifest and the two files still there


def _ui_client(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_the_ui_zip_leaves_out_what_the_export_leaves_out(registry, three_papers):
    actions.cancel_document(three_papers["drawing"], reason="filed by mistake", actor=TESTS)
    ids = [str(paper.id) for paper in three_papers.values()]
    ui = _zip(_ui_client(Role.EXAMINER).post(f"/dossiers/{EXPORT_KEY}/zip", {"document": ids}))
    api = _zip(registry.get(f"/api/v1/dossiers/{EXPORT_KEY}/export"))
    exported = {e["sha256"] for e in json.loads(api.read("manifest.json"))["files"]}
    in_ui = {hashlib.sha256(ui.read(name)).hexdigest() for name in ui.namelist()}
    assert in_ui == exported
    assert len(in_ui) == 2  # the cancelled drawing in neither


def test_the_ui_zip_with_a_missing_blob_completes_and_says_so(three_papers):
    lost = _lose_content(three_papers["lost"])
    ids = [str(paper.id) for paper in three_papers.values()]
    ui = _zip(_ui_client(Role.EXAMINER).post(f"/dossiers/{EXPORT_KEY}/zip", {"document": ids}))
    assert len(ui.namelist()) == 3  # two files and the note
    assert lost in ui.read("MISSING.txt").decode()
