"""Webhooks: where an integrated system wants to be told of domain events, and each delivery.

A webhook acts as its owner: it hears of exactly the events its owner could read from the
change feed (`access.visible_events`), judged again at every attempt. One created with an API
key acts with that key's role and stops when the key is revoked, so revoking a leaked key also
stops the webhooks made with it. Changed only through `webhooks.actions` and
`webhooks.deliveries`.

The tables keep the names they had when webhooks lived in `api/` (`api_webhook`,
`api_webhookdelivery`): the move changed the code's place, not the database.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from dossier.models import Event
from dossier.roles import Role


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class Webhook(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    # By name, not imported: API keys are the API's credentials, and a webhook made with one only
    # reads its role and whether it is revoked.
    api_key = models.ForeignKey(
        "api.ApiKey",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        help_text="The key it was created with: it acts with that key's role, and stops when "
        "the key is revoked. Empty: it acts with its owner's role.",
    )
    url = models.CharField(max_length=2000, help_text="http(s) URL the events are POSTed to.")
    # Kept readable: every delivery is signed with it. Shown once, when created or rotated.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    kinds = models.JSONField(default=list, blank=True, help_text="Event kinds; empty: all.")
    dossier_prefix = models.CharField(
        max_length=64, blank=True, help_text="Only dossiers whose file number starts so (BG/P/)."
    )
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    # A webhook hears of what happens after it exists, never of the outbox's past.
    after_event_id = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_webhook"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.owner} → {self.url}"

    def wants(self, kind: str, dossier_key: str) -> bool:
        """Whether the filters (kinds, dossier prefix) let an event of `kind` through."""
        if self.kinds and kind not in self.kinds:
            return False
        return dossier_key.startswith(self.dossier_prefix)

    def acting_user(self):
        """The user the webhook acts as, holding the role it acts with; None when it may act
        no more (its user deactivated, its API key revoked)."""
        user = self.owner
        if not user.is_active:
            return None
        if self.api_key_id is not None:
            if not self.api_key.is_active:
                return None
            user._edms_role = Role(self.api_key.role)  # what `role_of` reads, as at login
        return user


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting for its next attempt"
    SENDING = "sending", "An attempt is under way"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (the receiver refused it, or it may not be sent)"
    GAVE_UP = "gave_up", "Gave up after the last attempt"


OPEN_STATES = (DeliveryState.PENDING, DeliveryState.SENDING)
PING = "ping"


class WebhookDelivery(models.Model):
    """One event (or a ping) to send to one webhook, with the outcome of its last attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40, help_text="The event's kind, or `ping`.")
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when the next attempt is due. Sending: when the attempt counts as dead.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_webhookdelivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        constraints = [
            # A ping has no event; NULLs never collide, so pings may repeat.
            models.UniqueConstraint(fields=["webhook", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["webhook", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → webhook {self.webhook_id} ({self.state})"
