"""What every page's navigation needs to know about the signed-in user."""

from __future__ import annotations

from dossier import access


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_scan": False}
    return {"can_scan": access.can_do_quality_control(user)}
