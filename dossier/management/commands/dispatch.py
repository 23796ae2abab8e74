from django.core.management.base import BaseCommand

from dossier.tasks import dispatch_events


class Command(BaseCommand):
    help = "Queue every domain event that a subscriber has not been handed yet."

    def handle(self, *args, **options):
        self.stdout.write(f"queued {dispatch_events()} event(s) for the subscribers")
