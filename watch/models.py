"""A user's saved searches, watched dossiers and the notifications they cause.

Changed only through `watch.actions` (the user's choices) and the two subscribers that make
notifications: `watch.saved_searches` (documents the index just applied) and
`watch.dossier_watch` (the outbox). A notification names what happened, not its wording: the
UI and the e-mail say it in the reader's language.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dossier.models import Dossier, Event


class SavedSearch(models.Model):
    """A query and its filters, kept as the search page's parameters (`params`, a query string
    without page and sort) so that running it again is opening that page."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    params = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="watch_saved_search_name")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.name}"


class DossierWatch(models.Model):
    """A user follows a dossier: new documents, versions and case events in it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dossier_watches"
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "dossier"], name="watch_dossier_once")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} watches {self.dossier_id}"


class Reason(models.TextChoices):
    SEARCH_MATCH = "search_match", "A new document matches a saved search"
    DOSSIER_CHANGE = "dossier_change", "A watched dossier changed"


class Notification(models.Model):
    """One thing a user is told of. Unique per (saved search, document) and per (user, event),
    so a batch handed to a subscriber twice notifies once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    saved_search = models.ForeignKey(
        SavedSearch, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The event's kind for a dossier change (`document.registered`, `dossier.case_event`, ...).
    kind = models.CharField(max_length=40, blank=True)
    dossier_key = models.CharField(max_length=64)
    document_id = models.UUIDField(null=True, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # An e-mail is owed (SMTP configured, the user has an address) until the task sends it.
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="watch_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "document_id"],
                condition=Q(saved_search__isnull=False),
                name="watch_match_once",
            ),
            models.UniqueConstraint(
                fields=["user", "event"], condition=Q(event__isnull=False), name="watch_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.reason} {self.dossier_key}"
