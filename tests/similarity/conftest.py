"""What the near-duplicate tests share."""

from __future__ import annotations

import pytest
from celery import current_app

from dossier.events import dispatch_events


@pytest.fixture
def settle(django_capture_on_commit_callbacks):
    """Dispatch events, run the tasks they queue in this process, until nothing is left: an
    upload is processed, its processed event dispatched, its duplicate check run."""
    current_app.conf.task_always_eager = True

    def run() -> None:
        for _ in range(10):
            with django_capture_on_commit_callbacks(execute=True):
                handed = dispatch_events()
            if not handed:
                return

    yield run
    current_app.conf.task_always_eager = False
