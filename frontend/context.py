"""What every page's navigation needs to know about the signed-in user."""

from __future__ import annotations

from dossier import access
from watch.inbox import unread_count


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_scan": False}
    return {
        "can_scan": access.can_do_quality_control(user),
        # The badge on "Notifications": one indexed count per page.
        "unread_notifications": unread_count(user),
    }
