"""Two edms offices exchange a priority document through the fake DAS, end to end.

Office A is this test's edms (its database and data directory), driven through its API, its
DAS request moved on step by step as its task would. Office B is a real gunicorn process with a
data directory and a SQLite database of its own, migrated for the test (`edms migrate`; a whole
`edms run` per office took minutes on a busy 2-core runner), its tasks run inside its requests
(EDMS_CELERY_EAGER). A registers its priority document; B retrieves it with the access code A's
applicant would pass on and learns of the result only from DAS's notification (B's poll interval
is an hour), which it answers 204. The bytes B files, as `PRIO` with channel `das`, are A's,
SHA-256 and all; both offices' audit trails and event feeds show it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import pytest
import requests
from django.conf import settings

from api.models import ApiKey
from dossier.roles import Role
from exchange.das.models import DasRequest, State
from tests.conftest import client_for_key, create_dossier, file_document
from tests.exchange.conftest import NOTIFY_TOKEN, OFFICE_B, PRIORITY_PDF
from tests.exchange.test_das import drive
from tests.gunicorn_server import GunicornServer, gunicorn_server
from tests.launcher_support import EDMS, embedded_env
from tests.services import wait_until

pytestmark = pytest.mark.django_db
PRIORITY_NUMBER = "BG/P/2025/000777"
SECOND_FILING = "BG/P/2026/000042"


def call(server: GunicornServer, method: str, path: str, key: str, **kwargs):
    url = f"http://127.0.0.1:{server.port}{path}"
    headers = {"Authorization": f"Bearer {key}"}
    return requests.request(method, url, headers=headers, timeout=120, **kwargs)


def edms(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [EDMS, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def office_b_env(data_dir: Path, das_url: str) -> dict[str, str]:
    """An embedded edms of its own (SQLite, blobs and index in `data_dir`), as office B with
    the fake DAS; its tasks run in its requests, and the few it sends by name go to the test
    session's broker (none of them is B's own work)."""
    data_dir.mkdir()
    return embedded_env(data_dir) | {
        "DJANGO_SETTINGS_MODULE": "edms.settings",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EDMS_CELERY_EAGER": "true",
        "EDMS_DAS_URL": das_url,
        "EDMS_DAS_CLIENT_ID": OFFICE_B[0],
        "EDMS_DAS_CLIENT_SECRET": OFFICE_B[1],
        "EDMS_DAS_NOTIFICATION_TOKEN": NOTIFY_TOKEN,
        "EDMS_DAS_POLL_SECONDS": "3600",
        "PYTHONUNBUFFERED": "1",
    }


def test_office_a_registers_and_office_b_retrieves_the_same_bytes(office_a, tmp_path):
    fake = office_a  # the fake DAS, with this edms configured as office A
    env_b = office_b_env(tmp_path / "office-b", fake.url)
    edms(env_b, "migrate", "--verbosity", "0")
    registry_b = edms(env_b, "createapikey", "--name", "ipas-b").splitlines()[-1]
    clerk_b = edms(
        env_b, "createapikey", "--name", "records-b", "--role", "records_clerk"
    ).splitlines()[-1]

    # Office A: the first filing, its priority document, and the registration.
    dossier = create_dossier(PRIORITY_NUMBER, filing_date=dt.date(2025, 6, 2))
    original = PRIORITY_PDF.read_bytes()
    priority = file_document(dossier, original, type_code="PRIO", filename="priority.pdf")
    _, registry_a_key = ApiKey.create("office-a-registry", Role.REGISTRY_SYSTEM)
    registry_a = client_for_key(registry_a_key)
    started = registry_a.post(
        f"/api/v1/dossiers/{dossier.key}/das-requests",
        {"operation": "registration", "document": str(priority.id)},
        format="json",
    )
    assert started.status_code == 202, started.content
    registration = drive(DasRequest.objects.get(pk=started.json()["id"]))
    assert registration.state == State.SUCCEEDED, registration.last_error

    with gunicorn_server(tmp_path, base_env=env_b) as office_b:
        fake.control(
            "notify",
            {
                "client": OFFICE_B[0],
                "url": f"http://127.0.0.1:{office_b.port}/api/v1/das/notifications",
            },
        )
        answer = call(
            office_b,
            "PUT",
            f"/api/v1/dossiers/{SECOND_FILING}",
            registry_b,
            json={"ip_type": "patent", "title": "Second filing"},
        )
        assert answer.status_code in (200, 201), answer.text
        started = call(
            office_b,
            "POST",
            f"/api/v1/dossiers/{SECOND_FILING}/das-requests",
            registry_b,
            json={
                "operation": "retrieval",
                "document_number": registration.document_number,
                "access_code": registration.access_code,
            },
        )
        assert started.status_code == 202, started.text

        def settled():
            rows = call(
                office_b, "GET", f"/api/v1/dossiers/{SECOND_FILING}/das-requests", registry_b
            )
            row = next(r for r in rows.json()["results"] if r["id"] == started.json()["id"])
            return row if row["state"] not in ("queued", "pending") else None

        retrieval = wait_until(
            settled, timeout=120, what="office B's retrieval to settle", explain=office_b.log_tail
        )
        assert retrieval["state"] == "succeeded", retrieval
        notified = fake.control("notifications")["notifications"]
        assert {"requestId": retrieval["das_request_id"], "status": 204} in notified

        # The bytes B filed are A's.
        document = retrieval["document"]
        filed = call(office_b, "GET", f"/api/v1/documents/{document}", registry_b).json()
        assert (filed["type"], filed["channel"]) == ("PRIO", "das"), filed
        content = call(office_b, "GET", f"/api/v1/documents/{document}/content", registry_b)
        assert content.content == original
        sha256 = hashlib.sha256(original).hexdigest()

        # Both event feeds and both audit trails show it.
        events_b = call(office_b, "GET", "/api/v1/events?limit=1000", registry_b).json()["events"]
        assert any(
            e["kind"] == "document.registered"
            and e["document"] == document
            and e["payload"]["sha256"] == sha256
            for e in events_b
        ), events_b
        trail_b = call(office_b, "GET", f"/api/v1/dossiers/{SECOND_FILING}/audit", clerk_b)
        actions_b = [row["action"] for row in trail_b.json()["results"]]
        for step in ("requested", "sent", "succeeded"):
            assert f"das.retrieval.{step}" in actions_b, actions_b
        assert "document.attach" in actions_b

    events_a = registry_a.get("/api/v1/events?limit=1000").json()["events"]
    assert any(
        e["kind"] == "document.registered" and e["document"] == str(registration.certificate_id)
        for e in events_a
    ), events_a
    _, clerk_a = ApiKey.create("office-a-records", Role.RECORDS_CLERK)
    trail_a = client_for_key(clerk_a).get(f"/api/v1/dossiers/{dossier.key}/audit").json()
    actions_a = [row["action"] for row in trail_a["results"]]
    for step in ("requested", "sent", "succeeded"):
        assert f"das.registration.{step}" in actions_a, actions_a
