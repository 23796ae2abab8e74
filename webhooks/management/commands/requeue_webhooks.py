"""`edms requeue_webhooks`: send again the webhook deliveries whose task was lost."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webhooks.deliveries import requeue_due_deliveries


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        self.stdout.write(f"{requeue_due_deliveries()} webhook deliveries queued again")
