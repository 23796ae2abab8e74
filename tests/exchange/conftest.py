"""The fake DAS as a process of its own, and an edms configured to talk to it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exchange.das.client import forget_tokens
from tests.gunicorn_server import free_port
from tests.services import wait_until

REPO = Path(__file__).resolve().parents[2]
OFFICE_A = ("office-a", "secret-a")
OFFICE_B = ("office-b", "secret-b")
NOTIFY_TOKEN = "das-notifies-edms"
# A real patent publication (PDF) as the priority document the offices exchange.
PRIORITY_PDF = Path("/work/shared/corpus/patent/472407ff_US11762912.pdf")


@dataclass
class FakeDasProcess:
    process: subprocess.Popen
    url: str

    def control(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(
            urllib.request.Request(
                f"{self.url}/_fake/{path}",
                data=data,
                headers={"Content-Type": "application/json"},
            ),
            timeout=10,
        ) as answer:
            return json.load(answer)


def start_fake_das(*args: str) -> FakeDasProcess:
    port = free_port()
    command = [sys.executable, "-m", "tests.exchange.fake_das", "--port", str(port)]
    for client in (OFFICE_A, OFFICE_B):
        command += ["--client", ":".join(client)]
    process = subprocess.Popen(
        [*command, "--notify-token", NOTIFY_TOKEN, *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fake = FakeDasProcess(process, f"http://127.0.0.1:{port}")

    def healthy() -> bool:
        try:
            return fake.control("health")["status"] == "ok"
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=20, what="the fake DAS to start")
    except BaseException:
        stop_fake_das(fake)
        raise
    return fake


def stop_fake_das(fake: FakeDasProcess) -> None:
    fake.process.terminate()
    try:
        fake.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fake.process.kill()
        fake.process.wait()


@pytest.fixture(scope="module")
def fake_das() -> Iterator[FakeDasProcess]:
    fake = start_fake_das("--settle-after", "0.1")
    yield fake
    stop_fake_das(fake)


@pytest.fixture
def office_a(settings, fake_das) -> FakeDasProcess:
    """This edms, configured as office A with the fake DAS."""
    settings.EDMS_DAS_URL = fake_das.url
    settings.EDMS_DAS_TOKEN_URL = f"{fake_das.url}/oauth2/token"
    settings.EDMS_DAS_CLIENT_ID, settings.EDMS_DAS_CLIENT_SECRET = OFFICE_A
    settings.EDMS_DAS_OFFICE_EMAIL = "das@office-a.example"
    settings.EDMS_DAS_NOTIFICATION_TOKEN = NOTIFY_TOKEN
    forget_tokens()
    fake_das.control("unavailable", {"count": 0})
    yield fake_das
    forget_tokens()
