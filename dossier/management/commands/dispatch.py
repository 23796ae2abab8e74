from django.core.management.base import BaseCommand

from dossier.events import dispatch_events


class Command(BaseCommand):
    help = "Hand every domain event that a subscriber has not been handed yet to it (in batches)."

    def handle(self, *args, **options):
        self.stdout.write(f"handed {dispatch_events()} event(s) to the subscribers")
