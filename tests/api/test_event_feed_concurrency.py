"""The change feed under concurrent writers: a poller sees every event exactly once, in order.

Writer threads register documents and create/update dossiers through the API, each on its own
database connection, while a poller follows `GET /api/v1/events?after=<cursor>` with the cursor
it was given. On PostgreSQL ids come from a sequence and transactions can commit out of id order;
the advisory lock in `dossier.events` is what keeps a poller from stepping over a late commit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from dossier.models import Event
from tests.conftest import client_for_key

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
# SQLite serialises writers anyway; a few threads show the same property without long waits.
WRITERS = 3 if ON_SQLITE else 6
ROUNDS = 6
PAGE_SIZE = 7  # small, so the poller pages through has_more often
JOIN_TIMEOUT = 120.0


def _with_own_connection(work: Callable[[], None], errors: list[BaseException]) -> Callable:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connections only

    return run


def _writer(key: str, index: int) -> Callable[[], None]:
    """One registry integration: creates its dossier, then files and retitles, in rounds."""

    def work() -> None:
        client = client_for_key(key)
        dossier = f"BG/P/2024/{900000 + index}"
        response = client.put(
            f"/api/v1/dossiers/{dossier}", {"ip_type": "patent", "title": "v0"}, format="json"
        )
        assert response.status_code == 201, response.content
        for round_number in range(1, ROUNDS + 1):
            upload = SimpleUploadedFile(f"doc-{round_number}.bin", os.urandom(256))
            response = client.post(
                f"/api/v1/dossiers/{dossier}/documents",
                {"file": upload, "type": "CLM", "official_date": "2024-03-01"},
                format="multipart",
            )
            assert response.status_code == 201, response.content
            response = client.put(
                f"/api/v1/dossiers/{dossier}", {"title": f"v{round_number}"}, format="json"
            )
            assert response.status_code == 200, response.content

    return work


class Poller:
    """Follows the feed from cursor 0 until told to stop, then drains what is left."""

    def __init__(self, key: str):
        self.key = key
        self.cursor = "0"
        self.seen: list[int] = []
        self.stop = threading.Event()

    def poll_once(self, client) -> bool:
        response = client.get("/api/v1/events", {"after": self.cursor, "limit": PAGE_SIZE})
        assert response.status_code == 200, response.content
        page = response.json()
        self.seen.extend(int(event["cursor"]) for event in page["events"])
        self.cursor = page["next_cursor"]
        return page["has_more"]

    def work(self) -> None:
        client = client_for_key(self.key)
        while not self.stop.is_set():
            self.poll_once(client)
        while self.poll_once(client):  # the writers are done: read to the end
            pass


def test_poller_sees_every_event_once_in_order(registry_key):
    errors: list[BaseException] = []
    poller = Poller(registry_key)
    poll_thread = threading.Thread(target=_with_own_connection(poller.work, errors))
    writers = [
        threading.Thread(target=_with_own_connection(_writer(registry_key, index), errors))
        for index in range(WRITERS)
    ]
    poll_thread.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(JOIN_TIMEOUT)
    poller.stop.set()
    poll_thread.join(JOIN_TIMEOUT)

    assert not any(thread.is_alive() for thread in [*writers, poll_thread]), "threads hung"
    assert not errors, errors
    # Per writer: dossier created, then per round a document registered and a dossier update.
    expected = WRITERS * (1 + 2 * ROUNDS)
    committed = list(Event.objects.order_by("id").values_list("id", flat=True))
    assert len(committed) == expected
    assert poller.seen == sorted(set(poller.seen)), "the feed repeated or reordered an event"
    assert poller.seen == committed, "the poller missed events"
