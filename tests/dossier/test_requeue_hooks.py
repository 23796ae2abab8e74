"""The requeue hooks `edms sweep` runs: registered by the apps whose tasks can be lost, so that
the sweeper names none of them (`dossier.requeue_hooks`)."""

from __future__ import annotations

import pytest

from api.apps import delete_expired_upload_sessions, delete_expired_uploads
from dossier.audit_signing import sweep_checkpoint
from dossier.requeue_hooks import (
    cleanup_hooks,
    periodic_hooks,
    register_requeue_hook,
    requeue_hooks,
)
from exchange.das.tasks import requeue_das_requests
from ingest.pipeline import requeue_stalled_renditions
from retention.scan import scan_when_due
from search.tasks import queue_late_announcements, queue_rebuild_of_outdated_index
from similarity.duplicate_tasks import queue_missing
from similarity.requeue import queue_lost_embeddings
from watch.notify import requeue_unsent_mail
from webhooks.deliveries import requeue_due_deliveries


def test_each_app_registers_its_hook_once_in_the_order_apps_are_installed():
    assert requeue_hooks() == {
        "webhook deliveries": requeue_due_deliveries,
        "version renditions": requeue_stalled_renditions,
        "search index rebuilds": queue_rebuild_of_outdated_index,
        "indexed-event announcements": queue_late_announcements,
        "notification e-mails": requeue_unsent_mail,
        "documents due for disposition": scan_when_due,
        "DAS requests": requeue_das_requests,
        "embeddings": queue_lost_embeddings,
        "duplicate checks": queue_missing,
    }
    register_requeue_hook("webhook deliveries", requeue_due_deliveries)  # ready() run again
    assert list(requeue_hooks()) == [
        "webhook deliveries",
        "version renditions",
        "search index rebuilds",
        "indexed-event announcements",
        "notification e-mails",
        "documents due for disposition",
        "DAS requests",
        "embeddings",
        "duplicate checks",
    ]


def test_another_hook_may_not_take_a_registered_name():
    with pytest.raises(ValueError, match="webhook deliveries"):
        register_requeue_hook("webhook deliveries", lambda: 0)
    assert requeue_hooks()["webhook deliveries"] is requeue_due_deliveries


def test_the_api_registers_the_removal_of_expired_uploads_as_a_cleanup_hook():
    # Each imports the API's modules as it runs (see api.apps); the sweep tests of
    # tests/api/test_tus_uploads.py and test_upload_sessions.py see them remove what expired.
    assert cleanup_hooks() == {
        "expired uploads": delete_expired_uploads,
        "expired upload sessions": delete_expired_upload_sessions,
    }


def test_the_audit_trail_registers_its_checkpoint_as_a_periodic_hook():
    assert periodic_hooks() == {"audit checkpoints signed": sweep_checkpoint}
