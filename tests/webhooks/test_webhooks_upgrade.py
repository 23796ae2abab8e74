"""Webhooks moved from `api/` to an app of their own (issue 13): an installation upgraded across
the move keeps its webhooks, their deliveries, the permissions given on them and the subscriber's
place in the outbox, and runs the delivery tasks its broker still holds under their old name.
"""

from __future__ import annotations

import pytest
from celery import current_app
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dossier.models import SubscriberCursor
from dossier.roles import Role
from tests.conftest import make_user
from webhooks.deliveries import SUBSCRIBER
from webhooks.models import Webhook, WebhookDelivery

BEFORE_THE_MOVE = [
    ("api", "0003_webhook_delivery_errors_without_answers"),
    ("webhooks", None),
]
OLD_SUBSCRIBER = "api.webhooks.queue_deliveries"


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_across_the_move_keeps_every_row():
    owner = make_user("ipas-bridge")
    # The database as it stood before the move: webhooks in `api`, its cursor named so.
    old_apps = migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE[0]).apps
    assert not ContentType.objects.filter(app_label="webhooks").exists()
    cursor = SubscriberCursor.objects.filter(name__in=[OLD_SUBSCRIBER, SUBSCRIBER])
    cursor.delete()
    SubscriberCursor.objects.create(name=OLD_SUBSCRIBER, last_event_id=4242)
    old_webhook = old_apps.get_model("api", "Webhook").objects.create(
        owner_id=owner.pk, url="https://ipas.example.org/hook", kinds=["dossier.created"]
    )
    old_delivery = old_apps.get_model("api", "WebhookDelivery").objects.create(
        webhook_id=old_webhook.pk, kind="ping", state="gave_up", attempts=30, last_error="HTTP 503"
    )
    may_change = Permission.objects.get(content_type__app_label="api", codename="change_webhook")
    Group.objects.create(name="webhook keepers").permissions.add(may_change)

    migrate(None)

    webhook = Webhook.objects.get()
    assert (webhook.pk, webhook.url, webhook.secret, webhook.kinds, webhook.owner) == (
        old_webhook.pk,
        "https://ipas.example.org/hook",
        old_webhook.secret,
        ["dossier.created"],
        owner,
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.pk, delivery.webhook, delivery.state, delivery.attempts) == (
        old_delivery.pk,
        webhook,
        "gave_up",
        30,
    )
    # The group's permission is the same row, now on the moved model's content type.
    kept = Group.objects.get(name="webhook keepers").permissions.get()
    assert (kept.pk, kept.content_type.model_class()) == (may_change.pk, Webhook)
    assert not ContentType.objects.filter(app_label="api", model="webhook").exists()
    # The subscriber resumes where it stood: no event delivered twice, none missed.
    assert list(
        SubscriberCursor.objects.filter(name__in=[OLD_SUBSCRIBER, SUBSCRIBER]).values_list(
            "name", "last_event_id"
        )
    ) == [(SUBSCRIBER, 4242)]


@pytest.mark.django_db
def test_a_delivery_task_queued_under_its_old_name_still_runs(settings):
    settings.EDMS_WEBHOOK_ALLOWED_NETWORKS = []
    owner = make_user("ipas-bridge", Role.REGISTRY_SYSTEM)
    # Refused at its attempt (a metadata service): the task ran and recorded why.
    webhook = Webhook.objects.create(owner=owner, url="http://169.254.169.254/latest/")
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, kind="ping", next_attempt_at=timezone.now()
    )
    current_app.conf.task_always_eager = True
    try:
        current_app.tasks["api.tasks.deliver_webhook"].delay(str(delivery.pk))
    finally:
        current_app.conf.task_always_eager = False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("refused:")
