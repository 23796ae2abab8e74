"""The audit chain's head is the last lock a transaction takes (see dossier/audit_chain.py): two
writers in opposite orders on PostgreSQL, one approving a disposition batch (document after
document, audited each) under an `Idempotency-Key`, the other holding the batch's second
document and then auditing its change, both finish, with no deadlock."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction

from api.models import ApiKey
from dossier import actions
from dossier.audit import Actor
from dossier.audit_chain import verify_chain
from dossier.models import Document
from dossier.roles import Role
from retention.models import DispositionItem
from retention.scan import scan
from tests.conftest import client_for_key, create_dossier, file_document

REGISTRY = Actor(label="registry")


def _others_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_approved_while_one_of_its_documents_is_changed_does_not_deadlock():
    dossier = create_dossier()
    first = file_document(dossier, filename="first.txt")
    second = file_document(dossier, filename="second.txt")
    actions.record_case_event(dossier, kind="withdrawal", date=dt.date(2019, 6, 3), actor=REGISTRY)
    assert scan(dt.datetime(2024, 6, 3, 12, tzinfo=dt.UTC)).queued == 2
    items = [DispositionItem.objects.get(document=document).pk for document in (first, second)]
    _, key = ApiKey.create("records-manager", Role.ADMIN)
    manager = client_for_key(key)

    second_locked = threading.Event()
    answers, errors = [], []

    def approve() -> None:  # locks the first document, audits, then locks the second
        try:
            second_locked.wait(30)
            answers.append(
                manager.post(
                    "/api/v1/disposition/approve",
                    {"items": items},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY="approve-both",
                )
            )
        except Exception as exc:  # a deadlock aborts one writer: the test reports it
            errors.append(exc)
        finally:
            connections.close_all()

    def change_the_second() -> None:  # locks the second document, then audits
        try:
            with transaction.atomic():
                locked = Document.objects.select_for_update().get(pk=second.pk)
                second_locked.set()
                deadline = time.monotonic() + 30
                while not _others_waiting_on_a_lock() and time.monotonic() < deadline:
                    time.sleep(0.05)  # until the approval waits for this document
                actions.update_document(locked, {"title": "Claims (amended)"}, actor=REGISTRY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writers = [threading.Thread(target=approve), threading.Thread(target=change_the_second)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert errors == []
    [answer] = answers
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"disposed": items, "held": [], "skipped": []}
    second.refresh_from_db()
    assert second.title == "Claims (amended)"
    assert not second.versions.filter(expunged_at__isnull=True).exists()
    checked, found = verify_chain()
    assert found is None and checked > 0
