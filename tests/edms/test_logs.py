"""Structured logs (edms.logs, dossier.log_context): JSON lines from requests, a real gunicorn
server, a real Celery worker, a management command and the supervisor, each line with the
request id / task, the actor and the dossier or document where there is one; text on a terminal.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import ApiKey
from dossier import log_context
from dossier.models import Version
from dossier.roles import Role
from edms import logs
from edms.supervisor import Child, Supervisor, spawner
from ingest.models import Processing, State
from tests.conftest import client_for_key, create_dossier, make_user
from tests.gunicorn_server import gunicorn_server, process_env
from tests.services import running_worker, wait_until

ROOT = Path(__file__).resolve().parents[2]
EDMS = str(Path(sys.executable).with_name("edms"))
KEY = "BG/P/2024/007700"
MISSING_KEY = "BG/P/2024/404404"


def json_lines(text: str) -> list[dict]:
    """The JSON objects among `text`'s lines (a worker's banner, say, is not one)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


class Captured:
    """A handler as edms.logs configures it (JSON formatter, context filter), on the root
    logger, writing into a buffer."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.handler = logging.StreamHandler(self.buffer)
        self.handler.setFormatter(logs.JsonFormatter())
        self.handler.addFilter(log_context.ContextFilter())

    def __enter__(self) -> Captured:
        logging.getLogger().addHandler(self.handler)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger().removeHandler(self.handler)

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines()]


# --- The formats -------------------------------------------------------------------------------


def test_a_json_line_has_the_base_fields_and_what_is_bound():
    with Captured() as captured:
        with log_context.bound(request_id="req-1", actor="erika", dossier_key=KEY):
            logging.getLogger("edms.tests").info("filed %s", "claims", extra={"pages": 3})
        logging.getLogger("edms.tests").info("after the request")
    inside, after = captured.lines()
    assert inside["timestamp"].endswith("Z") and "T" in inside["timestamp"]
    assert inside["level"] == "INFO" and inside["logger"] == "edms.tests"
    assert inside["message"] == "filed claims"
    assert (inside["request_id"], inside["actor"], inside["dossier_key"]) == ("req-1", "erika", KEY)
    assert inside["pages"] == 3
    # Leaving the `with` unbinds: nothing of the request on the next line.
    assert "request_id" not in after and "actor" not in after


def test_an_exception_is_one_json_line_with_its_traceback():
    with Captured() as captured:
        try:
            {}["missing"]
        except KeyError:
            logging.getLogger("edms.tests").exception("lookup failed")
    text = captured.buffer.getvalue()
    assert text.count("\n") == 1  # one line, however long the traceback
    (line,) = captured.lines()
    assert line["level"] == "ERROR" and line["message"] == "lookup failed"
    assert line["exception"].startswith("Traceback (most recent call last)")
    assert "KeyError: 'missing'" in line["exception"]


def test_the_format_is_text_on_a_terminal_and_json_otherwise(tmp_path):
    assert logs.log_format("", stream=io.StringIO()) == "json"
    assert logs.log_format("TEXT", stream=io.StringIO()) == "text"
    with pytest.raises(ValueError, match="EDMS_LOG_FORMAT"):
        logs.log_format("xml")
    # A real terminal: a Django process's log line on a pseudo-terminal is text.
    code = (
        "import django, logging; django.setup(); "
        "from dossier import log_context; "
        "log_context.bind(request_id='req-tty'); "
        "logging.getLogger('edms.tests').warning('on a terminal')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "edms.settings", "PYTHONPATH": str(ROOT)}
    env.pop("EDMS_LOG_FORMAT", None)
    main, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=120,
        )
        os.close(secondary)
        said = _read_all(main)
    finally:
        os.close(main)
    assert done.returncode == 0, said
    (line,) = [line for line in said.splitlines() if "on a terminal" in line]
    assert not line.startswith("{")
    assert " WARNING edms.tests: on a terminal" in line and "request_id=req-tty" in line


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_the_settings_choose_the_format_from_edms_log_format():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == settings.EDMS_LOG_FORMAT
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["context"]


# --- Requests ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_logs_its_id_actor_and_dossier_key():
    _, key = ApiKey.create("ipas", Role.REGISTRY_SYSTEM)
    client = client_for_key(key)
    with Captured() as captured:
        response = client.get(f"/api/v1/dossiers/{MISSING_KEY}", HTTP_X_REQUEST_ID="trace-4711")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-4711"
    (line,) = [line for line in captured.lines() if line["logger"] == "django.request"]
    assert line["level"] == "WARNING" and line["message"].startswith("Not Found")
    assert line["request_id"] == "trace-4711"
    assert line["actor"] == "ipas"  # the key's name, never its secret
    assert key not in captured.buffer.getvalue()
    assert line["dossier_key"] == MISSING_KEY
    assert line["path"] == f"/api/v1/dossiers/{MISSING_KEY}"
    # The request's fields are gone once it is answered.
    assert log_context.current() == {}


@pytest.mark.django_db
def test_an_insane_request_id_is_replaced_and_a_person_is_named_with_their_key():
    _, key = ApiKey.create("examiner-ui", Role.EXAMINER, user=make_user("erika"))
    with Captured() as captured:
        response = client_for_key(key).get(
            f"/api/v1/dossiers/{MISSING_KEY}", HTTP_X_REQUEST_ID="bad id\twith spaces"
        )
    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    (line,) = [line for line in captured.lines() if line["logger"] == "django.request"]
    assert line["request_id"] == generated
    assert line["actor"] == "erika (API key examiner-ui)"


@pytest.mark.django_db
def test_a_page_logs_the_signed_in_user(client):
    client.force_login(make_user("erika", Role.EXAMINER))
    with Captured() as captured:
        response = client.get(f"/dossiers/{MISSING_KEY}", HTTP_X_REQUEST_ID="page-1")
    assert response.status_code == 404
    (line,) = [line for line in captured.lines() if line["logger"] == "django.request"]
    assert (line["request_id"], line["actor"]) == ("page-1", "erika")
    assert line["dossier_key"] == MISSING_KEY


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_gunicorn_server_logs_json_lines_with_the_request_fields(tmp_path):
    _, key = ApiKey.create("ipas", Role.REGISTRY_SYSTEM)
    with gunicorn_server(tmp_path) as server:
        conn = server.connect()
        conn.request(
            "GET",
            f"/api/v1/dossiers/{MISSING_KEY}",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "gunicorn-42"},
        )
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 404
        assert response.getheader("X-Request-ID") == "gunicorn-42"

        def both_lines():
            lines = json_lines(server.log_path.read_text(errors="replace"))
            mine = [line for line in lines if line.get("request_id") == "gunicorn-42"]
            loggers = {line["logger"] for line in mine}
            return mine if {"django.request", "gunicorn.access"} <= loggers else None

        mine = wait_until(both_lines, timeout=30, what="the request's log lines")
        text = server.log_path.read_text(errors="replace")
    # Every line the server wrote (gunicorn's start-up too) is JSON: no plain line on stderr.
    assert all(line.startswith("{") for line in text.splitlines() if line.strip()), text
    (django_line,) = [line for line in mine if line["logger"] == "django.request"]
    assert django_line["actor"] == "ipas" and django_line["dossier_key"] == MISSING_KEY
    (access,) = [line for line in mine if line["logger"] == "gunicorn.access"]
    assert access["status"] == 404 and access["method"] == "GET"
    assert access["path"] == f"/api/v1/dossiers/{MISSING_KEY}"
    assert access["duration_ms"] >= 0 and access["remote_addr"] == "127.0.0.1"
    assert key not in text


# --- A Celery worker ---------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_logs_the_task_and_the_version_it_works_on(tmp_path):
    _, key = ApiKey.create("ipas", Role.REGISTRY_SYSTEM)
    dossier = create_dossier(KEY)
    (entry,) = [w for w in settings.EDMS_LOCAL_WORKERS if w["name"] == "interactive"]
    with running_worker(tmp_path / "worker.log", queues=entry["queues"]) as worker:
        upload = SimpleUploadedFile("reply.txt", b"Reply to the office action.", "text/plain")
        response = client_for_key(key).post(
            f"/api/v1/dossiers/{KEY}/documents",
            {"type": "RESP", "file": upload},
            format="multipart",
            HTTP_X_REQUEST_ID="upload-9",
        )
        assert response.status_code == 201, response.content
        version = Version.objects.get(document_id=response.json()["id"])
        wait_until(
            lambda: Processing.objects.filter(version=version, state=State.DONE).exists(),
            timeout=90,
            what="the upload to be processed",
            explain=worker.log_tail,
        )
        # The processing's own line is written before the task's "succeeded" one.
        lines = wait_until(
            lambda: _task_lines(worker.log_path, version.pk),
            timeout=30,
            what="the task's log lines",
            explain=worker.log_tail,
        )
    ended = [line for line in lines if line["message"].startswith("processing of version")]
    assert ended and ended[0]["level"] == "INFO"
    assert ended[0]["dossier_key"] == dossier.key and ended[0]["document_id"] == str(
        version.document_id
    )
    succeeded = [line for line in lines if "succeeded" in line["message"]]
    assert succeeded and succeeded[0]["logger"] == "celery.app.trace"
    for line in ended + succeeded:
        assert line["task_id"] and line["task_name"].startswith("ingest.")
        assert line["version_id"] == version.pk
        # The request that filed the version, passed on with each task it caused.
        assert line["request_id"] == "upload-9"


def _task_lines(log_path: Path, version_id: int) -> list[dict] | None:
    lines = [
        line
        for line in json_lines(log_path.read_text(errors="replace"))
        if line.get("version_id") == version_id
    ]
    return lines if any("succeeded" in line["message"] for line in lines) else None


# --- A management command ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_management_command_logs_json_lines():
    # A spool file left by a killed process, older than any upload: `edms sweep` removes it
    # and says so in its log.
    spool = Path(settings.FILE_UPLOAD_TEMP_DIR)
    spool.mkdir(parents=True, exist_ok=True)
    leftover = spool / "killed-upload.part"
    leftover.write_bytes(b"half an upload")
    long_ago = time.time() - settings.EDMS_SPOOL_MAX_AGE - 3600
    os.utime(leftover, (long_ago, long_ago))
    env = process_env()
    env.pop("EDMS_LOG_FORMAT", None)  # not a terminal: JSON by default
    done = subprocess.run(
        [EDMS, "sweep"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
    (line,) = [
        line for line in json_lines(done.stderr) if "spool/staging leftovers" in line["message"]
    ]
    assert line["logger"] == "ingest.sweeper" and line["level"] == "WARNING"
    assert line["timestamp"].endswith("Z")


# --- The supervisor ----------------------------------------------------------------------------


def test_the_supervisor_logs_json_lines_when_not_on_a_terminal():
    log = io.StringIO()
    crasher = Child("crasher", spawner([sys.executable, "-c", "import sys; sys.exit(3)"]))
    team = Supervisor([crasher], log=log)
    team.start()
    try:

        def exited():
            team.tend()
            return "exited with code 3" in log.getvalue()

        wait_until(exited, timeout=60, what="the crasher's exit", explain=log.getvalue)
    finally:
        team.stop()
    lines = json_lines(log.getvalue())
    assert len(lines) == len(log.getvalue().splitlines())  # every line is JSON
    exit_line = next(line for line in lines if "exited with code 3" in line["message"])
    assert exit_line["logger"] == "edms.supervisor" and exit_line["level"] == "WARNING"
    assert exit_line["process_name"] == "crasher" and exit_line["pid"] > 0
