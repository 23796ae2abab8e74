"""A user's notifications as they may read them now: the one query the badge, the UI's list and
the API's use (`dossier.access` decides, as everywhere)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dossier import access
from watch.models import Notification


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications about what they may still see: a document made confidential or
    a dossier put under a secrecy order since the notification was made drops out of the list
    (and the unread count) rather than naming what is hidden now."""
    about_document = Q(document_id__in=access.visible_documents(user).values("id"))
    about_dossier = Q(
        document_id__isnull=True, dossier_key__in=access.visible_dossiers(user).values("key")
    )
    return Notification.objects.filter(user=user).filter(about_document | about_dossier)


def unread_count(user) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()
