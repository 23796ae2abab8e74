"""Coarse gate of the API: reads are open to every caller (the access module filters what they
see), writes need credentials. Each view then asks `dossier.access` what the role may do."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, permissions

from dossier.roles import Role, role_of


class ReadPublicWriteByRole(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS and settings.EDMS_PUBLIC_ACCESS:
            return True
        if role_of(request.user) == Role.PUBLIC:
            raise exceptions.NotAuthenticated("send Authorization: Bearer <api key>")
        return True


def require(allowed: bool, what: str, user=None) -> None:
    """Raise unless `allowed`: 401 for an anonymous `user` (log in first), else 403.

    `what` completes "your role may not …".
    """
    if allowed:
        return
    if user is not None and role_of(user) == Role.PUBLIC:
        raise exceptions.NotAuthenticated(f"send Authorization: Bearer <api key> to {what}")
    raise exceptions.PermissionDenied(f"your role may not {what}")
