"""The roles edms knows. A user's role is the Django group of that name (admins: superusers)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    EXAMINER = "examiner"
    RECORDS_CLERK = "records_clerk"
    REGISTRY_SYSTEM = "registry_system"
    PUBLIC = "public"


# Groups created by the migration; `public` is the anonymous caller and has no group.
GROUP_ROLES = (Role.ADMIN, Role.EXAMINER, Role.RECORDS_CLERK, Role.REGISTRY_SYSTEM)
# When a user is in several groups, the most powerful wins.
_PRECEDENCE = (Role.ADMIN, Role.REGISTRY_SYSTEM, Role.EXAMINER, Role.RECORDS_CLERK)


def role_of(user) -> Role:
    """The role that decides what `user` may see and do."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.PUBLIC
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_edms_role", None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in _PRECEDENCE if r.value in names), Role.PUBLIC)
    user._edms_role = role
    return role
